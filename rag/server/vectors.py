"""The embedder of a long-running server, with a memory of the vectors it has made.

Most of an extractive answer's time is the embedding model's forward pass over the sentences of the
retrieved passages (`rag.answerers.extractive.candidates`). A server is asked about the same documents
again and again, so the same passages come back and their sentences would be embedded again: a
vector depends only on the text and the model, never on the index generation, so it can be kept.
Up to `SIZE` vectors (384 floats each: about 30 MiB), least recently used out first. Large calls
(a build's batches) pass through untouched.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

SIZE = 20_000
LARGEST_CALL = 64  # texts; more is a build, not a question


class CachedEmbedder:
    """Wraps an `Embedder`: the same attributes, and `embed` answered from memory where it can."""

    def __init__(self, inner: Any, size: int = SIZE) -> None:
        self.inner, self.size = inner, size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # answers run in several threads
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:  # model_id, dim, max_tokens, count_tokens...
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        if progress is not None or len(texts) > LARGEST_CALL:
            return self.inner.embed(texts, progress)  # type: ignore[no-any-return]
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            made = self.inner.embed(missing)
            with self._lock:
                for text, vector in zip(missing, made, strict=True):
                    self._vectors[text] = found[text] = vector
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        self.hits, self.misses = self.hits + len(texts) - len(missing), self.misses + len(missing)
        if not texts:
            return np.zeros((0, self.inner.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts])
