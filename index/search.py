"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused into one ranking.

Fusion is a convex combination of normalised scores: BM25 divided by the best BM25 score of the
query, plus cosine, weighted `DENSE_WEIGHT`. We measured reciprocal rank fusion first: with an
English-only embedding model over Italian text the dense ranking is noisy, and RRF, which trusts
every rank of both lists alike, fell far below BM25 alone (recall@4 0.71 against 0.88 on
squad_it_dev), while the score combination beats both (0.89-0.90; `bench/` reproduces it). Scores
keep their magnitude, so a weak dense match cannot outvote a strong lexical one. Each hit keeps
both ranks and raw scores.

Two lexical signals then refine the hybrid ranking (not the single-retriever modes, which stay pure
for comparison): every candidate gets `FILE_WEIGHT` times its file's BM25 score relative to the
best file's, so a passage of the document the question is about outranks a look-alike elsewhere;
and the best `RERANK_DEPTH` get `SENTENCE_WEIGHT` times the IDF-weighted share of the question's
terms that one of their sentences holds. With the question words and BM25 parameters of
`language`/`lexical`, squad_it_dev recall@4 went from 0.883 to 0.899 (top 5: 0.891 to 0.913),
gaining on both halves of its articles: 0.902 to 0.915 on the half the weights were tuned on,
0.853 to 0.874 on the other. It costs about 3 ms a query (stemming 20 passages' sentences).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

from index.compat import check_search
from index.dense import load_dense, search_dense
from index.embed import Embedder
from index.errors import IndexCorruptError
from index.records import Hit
from index.store import Generation
from index.text.frequency import FOLDER as FREQUENCIES
from index.text.frequency import Frequencies
from index.wordvectors import FOLDER as WORDS
from index.wordvectors import WordVectors

if TYPE_CHECKING:  # BM25 (bm25s, scipy) loads with the first Searcher, not with this module
    from index.lexical import FileIndex, LexicalIndex

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")  # the first is the default
DENSE_WEIGHT = 0.2
FILE_WEIGHT = 0.3
SENTENCE_WEIGHT = 0.5
RERANK_DEPTH = 20
ACROSS_DEPTH = 30  # passages the hybrid search hands to the multilingual re-rank (`search_across`)
ACROSS_FUSED_WEIGHT = 0.3  # in that re-rank: the hybrid score's part, relative to the best passage's


class Searcher:
    """Searches one index generation; refuses an embedder other than the one that built it."""

    def __init__(self, generation: Generation, embedder: Embedder, dense_weight: float = DENSE_WEIGHT) -> None:
        meta = generation.meta
        check_search(meta, embedder)
        self.generation, self.embedder = generation, embedder
        self.langs = set(meta.languages)
        self.dense_weight = dense_weight
        self._frequencies = Frequencies(generation.folder / FREQUENCIES)
        from index.lexical import LexicalIndex

        try:
            self._dense = load_dense(generation.folder / "dense.faiss")
            self._lexical = LexicalIndex.load(generation.folder / "lexical", meta.n_chunks)
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            raise IndexCorruptError(f"index files in {generation.folder} cannot be read ({exc})") from exc
        if self._dense.ntotal != meta.n_chunks:
            raise IndexCorruptError(f"the dense index holds {self._dense.ntotal} vectors, expected {meta.n_chunks}")

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical

    def idf(self, term: str) -> float:
        """How rare a term (a stem) is in this index, as BM25 weighs it; 0 for a term it lacks."""
        return self._lexical.idf(term)

    def zipf(self, word: str, lang: str) -> float:
        """How common a word is in general in `lang` (Zipf scale), from the table stored at build time."""
        return self._frequencies.zipf(word, lang)

    def word_vectors(self, words: Sequence[str]) -> np.ndarray | None:
        """The multilingual unit vectors of `words` from the table stored at build time (a zero row for a
        word it lacks), or None when the index has no table (`index.wordvectors`)."""
        return self._words.vectors(words)

    @cached_property
    def _words(self) -> WordVectors:
        try:
            return WordVectors(self.generation.folder / WORDS)
        except (ValueError, OSError) as exc:
            raise IndexCorruptError(f"the word table in {self.generation.folder} cannot be read ({exc})") from exc

    @cached_property
    def files(self) -> FileIndex:
        """BM25 over whole files: saved with the generation, or built from the stored terms for an
        index written before it was (no rebuild needed)."""
        from index.lexical import FileIndex

        folder = self.generation.folder / "files"
        if (folder / "file_of_chunk.npy").exists():
            try:
                return FileIndex.load(folder)
            except (ValueError, KeyError, OSError) as exc:
                raise IndexCorruptError(f"index files in {folder} cannot be read ({exc})") from exc
        file_of_chunk = np.zeros(self.generation.meta.n_chunks, dtype=np.int64)
        for n, record in enumerate(self.generation.files()):
            file_of_chunk[self.generation.chunk_ids_for(record.path)] = n
        return FileIndex.build(self.generation.terms(), file_of_chunk)

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def search(self, question: str, k: int = 5, mode: Mode = "hybrid", depth: int = 50,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """The `k` best chunks for `question`; `depth` candidates are taken from each retriever."""
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        # The question's terms, once, for BM25 over chunks and files and for the sentence rerank.
        terms = self._lexical.query(question, self.langs) if mode != "dense" else []
        if mode in ("hybrid", "dense"):
            vector = query_vector if query_vector is not None else self.embed_query(question)
            dense = search_dense(self._dense, vector, depth)
        if mode in ("hybrid", "lexical"):
            lexical = self._lexical.search(terms, depth)
        # In a single mode that retriever gets all the weight.
        weight = {"hybrid": self.dense_weight, "dense": 1.0, "lexical": 0.0}[mode]
        best_bm25 = lexical[0][1] if lexical else 1.0
        fused: dict[int, float] = {}
        info: dict[int, dict[str, float | int]] = {}
        for name, ranking in (("dense", dense), ("lexical", lexical)):
            for rank, (cid, score) in enumerate(ranking, start=1):
                part = weight * max(score, 0.0) if name == "dense" else (1 - weight) * score / best_bm25
                fused[cid] = fused.get(cid, 0.0) + part
                info.setdefault(cid, {})[f"{name}_rank"] = rank
                info[cid][f"{name}_score"] = score
        if mode == "hybrid" and fused:
            file_scores = self.files.chunk_scores(terms)
            for cid in fused:
                fused[cid] += FILE_WEIGHT * float(file_scores[cid])
        top = sorted(fused, key=lambda cid: (-fused[cid], cid))[:max(k, RERANK_DEPTH) if mode == "hybrid" else k]
        chunks = self.generation.chunks(top)
        if mode == "hybrid":
            for cid, chunk in zip(top, chunks, strict=True):
                fused[cid] += SENTENCE_WEIGHT * self._lexical.sentence_match(terms, chunk.text, chunk.lang)
            order = sorted(range(len(top)), key=lambda n: (-fused[top[n]], top[n]))[:k]
            top, chunks = [top[n] for n in order], [chunks[n] for n in order]
        return [Hit(chunk=chunk, score=fused[cid], **info[cid])  # type: ignore[arg-type]
                for cid, chunk in zip(top, chunks, strict=True)]

    def search_across(self, question: str, k: int, encoder: Embedder) -> tuple[list[Hit], np.ndarray]:
        """For a question in another language than the documents: the hybrid search's best
        `ACROSS_DEPTH` passages re-ranked with a multilingual `encoder`. A passage scores its best
        sentence's cosine to the question, plus `ACROSS_FUSED_WEIGHT` times its hybrid score
        relative to the best one's. On the English questions about squad_it_dev's Italian articles
        (bench/data/squad_it_dev_en.jsonl) recall@5 went from 0.63 to 0.82 (bench/crosslingual.py).
        Returns the hits, scored by the re-rank, and the question's vector in the encoder's space."""
        from index.text.sentences import split_sentences

        hits = self.search(question, max(k, ACROSS_DEPTH), "hybrid")
        pieces = [(n, s.text) for n, hit in enumerate(hits) for s in split_sentences(hit.chunk.text)]
        vectors = encoder.embed([question] + [text for _, text in pieces])
        query = vectors[0]
        best: dict[int, float] = {}
        for (n, _), vector in zip(pieces, vectors[1:], strict=True):
            best[n] = max(best.get(n, -1.0), float(vector @ query))
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        scores = {n: best.get(n, 0.0) + ACROSS_FUSED_WEIGHT * hit.score / top for n, hit in enumerate(hits)}
        order = sorted(scores, key=lambda n: (-scores[n], n))[:k]
        return [replace(hits[n], score=scores[n]) for n in order], query
