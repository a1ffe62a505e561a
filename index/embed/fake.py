"""A deterministic fake embedder for fast tests: same interface and registry path as the real one,
and no meaning beyond shared words."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from index.embed.base import Progress


class HashEmbedder:
    """A fake: each word is hashed to a fixed random direction; a text is the normalised sum."""

    max_tokens = 256

    def __init__(self, model: str = "hash-64", dim: int = 64) -> None:
        self.model_id, self._dim = model, dim
        self.calls = 0  # texts embedded so far, for tests that count work

    @property
    def dim(self) -> int:
        return self._dim

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row] += np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        self.calls += len(texts)
        if progress:
            progress(len(texts))
        return out
