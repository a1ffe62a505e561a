"""The `Assistant`: the facade that builds, updates, searches, answers and summarises, from one `Settings`.

The CLI, the TUI, the server and the LangChain adapter all build it; backends are passed in or made
from the settings, never reached for as globals. The embedding model loads lazily, on the first
embed; the index opens on the first search.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from index.builder import Builder, ProgressFactory, has_history, missing, recorded_sources
from index.compat import check_chunking, chunking_of
from index.embed import DEFAULT_MODEL, Embedder, HashEmbedder, MultilingualEmbedder, make_embedder
from index.embed.distributed import RayEmbedder, RayOptions, recipe
from index.embed.multilingual import available as multilingual_available
from index.errors import SourceError
from index.records import BuildReport, Hit
from index.search import Searcher
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from index.text.language import asked_in_another_language
from index.wordvectors import Encode
from rag.answer import Answer
from rag.answerers import Answerer, Retrieval, make_answerer
from rag.answerers.generative import collect
from rag.config.bots import BotProfile, BotStore
from rag.config.defaults import DEFAULT_BOT
from rag.config.settings import Settings, bundled_seeds
from rag.conversation import ChatSession
from rag.engines import Engine, make_engine
from rag.freshness import settle
from rag.summary import IndexSummary, summarize

__all__ = ["DEFAULT_MODEL", "Assistant", "BuildReport", "Embedder", "ProgressFactory"]


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 progress: ProgressFactory | None = None, wait: bool = False, engine: Engine | None = None,
                 on_wait: Callable[[str], None] | None = None,
                 on_interrupt: Callable[[str], None] | None = None) -> None:
        settings.check()
        self._engine = engine  # a ready engine (tests, the TUI) instead of the one the settings name
        # wait: queue behind another writer instead of failing; on_wait hears whom it waits for;
        # on_interrupt hears that a Ctrl-C will stop a build once the batch being embedded is saved
        self.settings, self.wait, self.on_wait, self.on_interrupt = settings, wait, on_wait, on_interrupt
        self._embedder = embedder
        self._searcher: Searcher | None = None
        self.progress = progress
        self.store = IndexStore(settings.index_root)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedder, self.settings.model)
        return self._embedder

    # ---- indexing -----------------------------------------------------------------------------
    def _builder(self, chunking: ChunkSettings, cluster: RayOptions | None = None) -> Builder:
        # On a cluster, the same model identity; its workers make the settings' embedder (index/embed/distributed.py).
        embedder = self.embedder if cluster is None else RayEmbedder(
            self.embedder, recipe(self.settings.embedder, self.settings.model, cluster.gpus), cluster,
            log=self.store.root / "ray-build.log")
        return Builder(self.store, embedder, chunking, max_bytes=int(self.settings.max_file_mb * 1024 * 1024),
                       progress=self.progress, wait=self.wait, on_wait=self.on_wait, on_interrupt=self.on_interrupt,
                       word_encoder=self._word_encoder())

    def _word_encoder(self) -> Encode | None:
        """What embeds the documents' words at build time (index/wordvectors.py): the multilingual
        encoder, when installed and not switched off (`multilingual = false`). The hash embedder, a
        fast fake for tests and demos, goes without: the encoder alone takes 2 s to load."""
        if not self.settings.multilingual or not multilingual_available() or isinstance(self.embedder, HashEmbedder):
            return None
        return self.multilingual.embed

    def _chunking(self) -> ChunkSettings:
        return ChunkSettings(self.settings.chunk_size, self.settings.chunk_overlap)

    def _index_chunking(self) -> ChunkSettings:
        """The index's chunk settings; chunk settings asked for explicitly must be the same."""
        if not self.store.exists():
            raise missing(self.store)
        meta = self.store.open().meta
        if self.settings.explicit & {"chunk_size", "chunk_overlap"}:
            check_chunking(meta, self._chunking())
        return chunking_of(meta)

    def build(self, sources: list[str] | None = None, cluster: RayOptions | None = None) -> BuildReport:
        """Index `sources`; with none, the bot's (`sources()`), decided once any build running is done.
        With `cluster`, the chunks are embedded on Ray."""
        return self._builder(self._chunking(), cluster).build(self.sources if sources is None else sources)

    def update(self) -> BuildReport:
        return self._builder(self._index_chunking()).update()

    @cached_property
    def profile(self) -> BotProfile:
        return BotStore(self.settings.home, bundled_seeds()).load(self.settings.bot)

    def sources(self) -> list[str]:
        """What the bot knows: its profile's sources; else those its index (even a damaged one) or an
        interrupted build recorded; else, for the default bot that has never had an index, the seeds."""
        if self.profile.sources:
            return list(self.profile.sources)
        recorded = recorded_sources(self.store)
        if recorded:
            return recorded
        if self.profile.name == DEFAULT_BOT and not has_history(self.store.root):
            return [str(bundled_seeds())]
        raise SourceError(f"bot {self.profile.name!r} has no sources recorded; pass the paths to build from, "
                          f"or add them to its profile: rag bot edit {self.profile.name}")

    def ensure_index(self) -> BuildReport | None:
        """Build the bot's index from its sources when it has never had one. A build running elsewhere is
        waited for (and its index used); an interrupted one is reported, never built over."""
        if self.store.exists():  # the usual case, without the writer lock: readers never wait for a rebuild
            return None
        return self._builder(self._chunking()).build_first(self.sources)

    def summary(self) -> IndexSummary | None:
        """What the index holds, or None when there is none yet."""
        if not self.store.exists():
            return None
        generation = self.store.open()
        try:
            return summarize(generation)
        finally:
            generation.close()

    # ---- searching and answering --------------------------------------------------------------
    @property
    def searcher(self) -> Searcher:
        """A searcher over the current generation. A build or update here or in another process (a
        watcher, a second terminal, another server worker) makes a new generation current; the next
        question opens it, at the cost of reading one small pointer file per question."""
        current = self.store.current_folder()
        if self._searcher is None or current != self._searcher.generation.folder:
            generation = self.store.open()
            if self.settings.explicit & {"chunk_size", "chunk_overlap"}:
                check_chunking(generation.meta, self._chunking())
            # The old searcher is dropped, not closed: a question still running in another thread may use it.
            self._searcher = Searcher(generation, self.embedder)
        return self._searcher

    def generation_changed_at(self) -> str:
        """When the current generation (the one the next question opens) was built: its `built_at`, or ""
        when there is no index. Reads one small file; opens nothing."""
        return self.store.built_at()

    def warm_up(self) -> None:
        """Open the index, load the embedding model and make the engine, before the first question."""
        self.searcher.embed_query("warm up")
        _ = self.engine

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        return self.searcher.search(question, k or self.settings.top_k, self.settings.mode)  # type: ignore[arg-type]

    @cached_property
    def engine(self) -> Engine | None:
        """The generative engine of the settings, or None for the extractive answerer."""
        if self._engine is not None:
            return self._engine
        if self.settings.engine == "extractive":
            return None
        return make_engine(self.settings.engine, self.settings)

    @property
    def answerer(self) -> Answerer:
        """Who writes the answer, made anew for each question (cheap) so that a swapped engine is used."""
        return make_answerer(self.settings, self.profile.instructions, self.profile.no_answer, self.engine)

    def retrieve(self, searched: str, focus: str = "") -> Retrieval:
        """What an answerer gets for `searched`: its passages, its vector and the encoders to compare with."""
        searcher = self.searcher
        embed, translate = self.embedder.embed, None
        if self._across(searched, searcher):  # the multilingual encoder re-ranks, compares sentences and words
            hits, vector = searcher.search_across(searched, self.settings.top_k, self.multilingual)
            embed = translate = self.multilingual.embed
        else:
            vector = searcher.embed_query(searched)
            hits = searcher.search(searched, self.settings.top_k, self.settings.mode,  # type: ignore[arg-type]
                                   query_vector=vector)
        return Retrieval(searched, hits, vector, searcher, embed, focus, translate)

    def _answer(self, searched: str, focus: str, on_token: Callable[[str], None] | None) -> Answer:
        """Retrieve for `searched` and answer it (the extractive answerer covering `focus` when given)."""
        began = time.perf_counter()
        retrieval = self.retrieve(searched, focus)
        retrieved = time.perf_counter()
        answer = self.answerer.answer(retrieval, on_token)
        timings = {"retrieval": retrieved - began, **answer.timings}
        timings.setdefault("answer", time.perf_counter() - retrieved)
        return replace(answer, timings=timings)

    @cached_property
    def multilingual(self) -> Embedder:
        """The encoder for questions in another language than the documents (loads on first use)."""
        return MultilingualEmbedder()

    def _across(self, question: str, searcher: Searcher) -> bool:
        """Whether `question` takes the multilingual path: in hybrid mode, in another language than
        every document, with the encoder installed and not switched off (`multilingual = false`)."""
        return (self.settings.multilingual and self.settings.mode == "hybrid"
                and asked_in_another_language(question, searcher.langs) and multilingual_available())

    def _follow_up(self, question: str, session: ChatSession) -> tuple[str, Answer]:
        """A later turn without an LLM: the question is answered alone and, when it leans on the
        previous turn or finds no answer alone, searched together with that turn while the answer
        must still cover its own words (so the previous answer is not simply repeated). The answer
        with the higher confidence wins; an abstention never beats an answer."""
        alone = self._answer(question, "", None)
        if not (session.looks_like_follow_up(question) or alone.abstained):
            return question, alone
        combined = session.with_context(question)
        context = self._answer(combined, question, None)
        if not context.abstained and (alone.abstained or context.confidence > alone.confidence):
            return combined, context
        return question, alone

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            session: ChatSession | None = None) -> Answer:
        """Answer from the documents, or abstain with the nearest passages.

        A generative engine streams its text to `on_token`; with a `session`, a follow-up question is
        made standalone before retrieval and the turn is recorded.
        """
        engine = self.engine
        if session is not None and session.turns and engine is None:
            searched, answer = self._follow_up(question, session)
        else:
            searched = question
            if session is not None:
                rewrite = (lambda prompt: collect(engine, [{"role": "user", "content": prompt}],
                                                  max_tokens=64)[0]) if engine is not None else None
                searched = session.standalone(question, rewrite)
            answer = self._answer(searched, "", on_token)
        answer = replace(answer, question=question if engine is not None else searched)
        # the quote's page, and each cited file checked against the generation that answered
        answer = settle(answer, self._searcher.generation if self._searcher is not None else None)
        if self.profile.citation_style == "list" and not answer.abstained:  # sources listed below only
            answer = replace(answer, text=" ".join(s.text for s in answer.sentences))
        if session is not None:
            session.add(question, searched, answer.text)
        return answer
