"""The `Assistant`: one object that indexes, searches and answers, built from one `Settings`.

The CLI and (later) the TUI both build it; backends are passed in or made from the settings, never
reached for as globals. The embedding model loads lazily, on the first embed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from index.builder import Builder, ProgressFactory
from index.chunking import ChunkSettings
from index.embedder import Embedder, make_embedder
from index.errors import IndexMismatchError, SourceError
from index.records import BuildReport, Hit
from index.search import Searcher
from index.store import Generation, IndexMeta, IndexStore
from rag import extractive
from rag.answer import Answer, AnswerSentence, Citation
from rag.bots import DEFAULT_BOT, BotProfile, BotStore
from rag.chat import ChatSession
from rag.confidence import confidence, threshold
from rag.engines import Engine, make_engine
from rag.generate import collect, generate
from rag.settings import Settings, bundled_seeds


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 progress: ProgressFactory | None = None, wait: bool = False, engine: Engine | None = None) -> None:
        settings.check()
        if engine is not None:  # a ready engine (tests, the TUI) instead of the one the settings name
            self.__dict__["engine"] = engine
        self.settings, self.wait = settings, wait  # wait: queue behind another writer instead of failing
        self._embedder = embedder
        self.progress = progress
        self.store = IndexStore(settings.index_root)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedder, self.settings.model)
        return self._embedder

    def _builder(self, chunking: ChunkSettings | None = None) -> Builder:
        s = self.settings
        return Builder(self.store, self.embedder, chunking or ChunkSettings(s.chunk_size, s.chunk_overlap),
                       max_bytes=int(s.max_file_mb * 1024 * 1024), progress=self.progress, wait=self.wait)

    def _chunking_of_index(self, meta: IndexMeta | None = None) -> ChunkSettings:
        """The index's chunk settings, unless other ones were asked for explicitly (then they must match)."""
        meta = meta or self.store.open().meta
        s = self.settings
        for name, built in (("chunk_size", meta.chunk_size), ("chunk_overlap", meta.chunk_overlap)):
            if name in s.explicit and getattr(s, name) != built:
                raise IndexMismatchError(
                    f"the index was built with {name} {built} but {getattr(s, name)} is configured; "
                    f"rebuild with: rag index build PATH... (or drop the {name} setting)")
        return ChunkSettings(meta.chunk_size, meta.chunk_overlap)

    def build(self, sources: list[str]) -> BuildReport:
        report = self._builder().build(sources)
        self.__dict__.pop("searcher", None)
        return report

    def update(self) -> BuildReport:
        report = self._builder(self._chunking_of_index()).update()
        self.__dict__.pop("searcher", None)
        return report

    @cached_property
    def profile(self) -> BotProfile:
        return BotStore(self.settings.home, bundled_seeds()).load(self.settings.bot)

    def sources(self) -> list[str]:
        """What the bot knows: its profile's sources; the bundled seeds for the default bot."""
        if self.profile.sources:
            return list(self.profile.sources)
        if self.profile.name == DEFAULT_BOT:
            return [str(bundled_seeds())]
        raise SourceError(f"bot {self.profile.name!r} has no sources; add some with: rag bot edit "
                          f"{self.profile.name}, or pass paths to: rag index build")

    def ensure_index(self) -> BuildReport | None:
        """Build the bot's index from its sources when there is none yet."""
        if self.store.exists():
            return None
        # Two first questions at once: the second waits for the first build instead of failing.
        wait, self.wait = self.wait, True
        try:
            return self.build(self.sources())
        finally:
            self.wait = wait

    def generation(self) -> Generation:
        return self.store.open()

    @cached_property
    def searcher(self) -> Searcher:
        generation = self.store.open()
        self._chunking_of_index(generation.meta)
        return Searcher(generation, self.embedder)

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self.searcher.search(question, k or self.settings.top_k, self.settings.mode)  # type: ignore[arg-type]

    @cached_property
    def engine(self) -> Engine | None:
        """The generative engine of the settings, or None for the extractive answerer."""
        if self.settings.engine == "extractive":
            return None
        return make_engine(self.settings.engine, self.settings)

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            session: ChatSession | None = None) -> Answer:
        """Answer from the documents, or abstain with the nearest passages.

        A generative engine streams its text to `on_token`; with a `session`, a follow-up question is
        made standalone before retrieval and the turn is recorded.
        """
        engine = self.engine
        searched = question
        if session is not None:
            rewrite = (lambda prompt: collect(engine, [{"role": "user", "content": prompt}], max_tokens=64)[0]) \
                if engine is not None else None
            searched = session.standalone(question, rewrite)
        answer = self._answer(question, searched, engine, on_token)
        if self.profile.citation_style == "list" and not answer.abstained:  # sources listed below only
            answer = replace(answer, text=" ".join(s.text for s in answer.sentences))
        if session is not None:
            session.add(question, searched, answer.text)
        return answer

    def _answer(self, question: str, searched: str, engine: Engine | None,
                on_token: Callable[[str], None] | None) -> Answer:
        timings: dict[str, float] = {}
        began = time.perf_counter()
        searcher = self.searcher
        vector = searcher.embed_query(searched)
        hits = searcher.search(searched, self.settings.top_k, self.settings.mode,  # type: ignore[arg-type]
                               query_vector=vector)
        timings["retrieval"] = time.perf_counter() - began
        if engine is not None:
            answer = generate(searched, hits, engine, self.embedder.embed, self.settings.strict, on_token,
                              self.profile.instructions, self.profile.no_answer)
            return replace(answer, question=question, timings={**timings, **answer.timings})
        question = searched
        cands = extractive.candidates(question, hits, searcher.lexical, searcher.langs, vector,
                                      self.embedder.embed)
        chosen = extractive.choose(cands)
        conf = confidence(cands)
        timings["answer"] = time.perf_counter() - began - timings["retrieval"]
        limit = threshold(self.settings.min_confidence)
        if not chosen or conf < limit:
            nearest = tuple(Citation(n, hit) for n, hit in enumerate(hits[:3], start=1))
            return Answer(question, self.profile.no_answer, (), nearest, True, conf, timings=timings,
                          retrieved=tuple(hits))
        numbers: dict[int, int] = {}
        for cand in chosen:
            numbers.setdefault(cand.hit_index, len(numbers) + 1)
        citations = tuple(Citation(n, hits[i]) for i, n in numbers.items())
        sentences = tuple(AnswerSentence(c.sentence.text, (numbers[c.hit_index],),
                                         char_span=(c.sentence.start, c.sentence.end)) for c in chosen)
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        return Answer(question, text, sentences, citations, False, conf, timings=timings, retrieved=tuple(hits))
