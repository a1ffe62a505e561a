"""Lexical search: BM25 (bm25s) over stemmed terms, so exact tokens like `910B` are never missed.

Each chunk is stemmed in its own document's language at build time (see `language.terms`); the
terms are stored with the chunk so an update rebuilds BM25 without re-reading unchanged files.
bm25s saves plain .npy arrays and JSON; we load them with `allow_pickle=False`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.language import query_terms


class LexicalIndex:
    """BM25 over pre-computed term lists, one list per chunk, in chunk-id order."""

    def __init__(self, retriever, n_docs: int) -> None:  # type: ignore[no-untyped-def]
        self._bm25 = retriever
        self.n_docs = n_docs
        self._vocab: dict[str, int] = retriever.vocab_dict if retriever is not None else {}

    @classmethod
    def build(cls, term_lists: Sequence[Sequence[str]]) -> LexicalIndex:
        import bm25s

        if not term_lists:
            return cls(None, 0)
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # An empty term list (a chunk of only stopwords or punctuation) still needs a row.
        retriever.index([list(terms) or [""] for terms in term_lists], show_progress=False)
        return cls(retriever, len(term_lists))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, n_docs: int) -> LexicalIndex:
        import bm25s

        if n_docs == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, mmap=False), n_docs)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (0 for an unknown one), as BM25 weighs it."""
        if self._bm25 is None or term not in self._vocab:
            return 0.0
        df = self._doc_freq()[self._vocab[term]]
        return float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def _doc_freq(self) -> np.ndarray:
        if not hasattr(self, "_df"):
            indptr = np.asarray(self._bm25.scores["indptr"])
            self._df = np.diff(indptr)  # scores are stored column-wise: one column per term
        return self._df

    def search(self, text: str, langs: set[str], k: int) -> list[tuple[int, float]]:
        """Top `k` (chunk id, BM25 score) for a question; chunks with no shared term are left out."""
        if self._bm25 is None:
            return []
        ids = [self._vocab[t] for t in query_terms(text, langs) if t in self._vocab]
        if not ids:
            return []
        scores = self._bm25.get_scores(ids)
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]
