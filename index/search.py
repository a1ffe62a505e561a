"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank.

Reciprocal rank fusion (Cormack et al. 2009) needs no score calibration between the two
retrievers, which matters here: cosine and BM25 scores live on unrelated scales, and the dense
model is English-only while documents may not be. Each hit keeps both ranks and raw scores.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from index.dense import load_dense, search_dense
from index.embedder import Embedder
from index.errors import IndexMismatchError
from index.lexical import LexicalIndex
from index.records import Hit
from index.store import SCHEMA_VERSION, Generation

Mode = Literal["hybrid", "dense", "lexical"]
RRF_K = 60  # the constant from the original paper; damps the head of each ranking


class Searcher:
    """Searches one index generation; refuses an embedder other than the one that built it."""

    def __init__(self, generation: Generation, embedder: Embedder, dense_weight: float = 1.0,
                 lexical_weight: float = 1.0) -> None:
        meta = generation.meta
        if meta.schema_version != SCHEMA_VERSION:
            raise IndexMismatchError(f"the index uses schema {meta.schema_version}, this version reads "
                                     f"{SCHEMA_VERSION}; rebuild with: rag index build PATH...")
        if meta.model_id != embedder.model_id or meta.dim != embedder.dim:
            raise IndexMismatchError(
                f"the index was built with model {meta.model_id} ({meta.dim} dims) but {embedder.model_id} "
                f"({embedder.dim} dims) is configured; rebuild with: rag index build PATH... "
                "or set the model back")
        self.generation, self.embedder = generation, embedder
        self.langs = set(meta.languages)
        self.dense_weight, self.lexical_weight = dense_weight, lexical_weight
        self._dense = load_dense(generation.folder / "dense.faiss")
        self._lexical = LexicalIndex.load(generation.folder / "lexical", meta.n_chunks)

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.embed([question])[0]

    def search(self, question: str, k: int = 5, mode: Mode = "hybrid", depth: int = 50,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """The `k` best chunks for `question`; `depth` candidates are taken from each retriever."""
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            vector = query_vector if query_vector is not None else self.embed_query(question)
            dense = search_dense(self._dense, vector, depth)
        if mode in ("hybrid", "lexical"):
            lexical = self._lexical.search(question, self.langs, depth)
        fused: dict[int, float] = {}
        info: dict[int, dict[str, float | int]] = {}
        for weight, name, ranking in ((self.dense_weight, "dense", dense), (self.lexical_weight, "lexical", lexical)):
            for rank, (cid, score) in enumerate(ranking, start=1):
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
                info.setdefault(cid, {})[f"{name}_rank"] = rank
                info[cid][f"{name}_score"] = score
        top = sorted(fused, key=lambda cid: (-fused[cid], cid))[:k]
        chunks = self.generation.chunks(top)
        return [Hit(chunk=chunk, score=fused[cid], **info[cid])  # type: ignore[arg-type]
                for cid, chunk in zip(top, chunks, strict=True)]
