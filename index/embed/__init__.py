"""Embedding backends behind one small protocol (`base.Embedder`), with a name-keyed registry.

`sentence-transformers` (`transformer.py`) is the real one, with a NumPy forward pass for small
calls (`numpy_bert.py`); `hash` (`fake.py`) is a deterministic fake for fast tests. Add a backend by
writing a class with the protocol's four members and registering a factory in `EMBEDDERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from index.embed.base import (
    DEFAULT_MODEL,
    PROBE_TOLERANCE,
    Embedder,
    Progress,
    default_model_path,
    embed_batches,
    fingerprint,
)
from index.embed.fake import HashEmbedder
from index.embed.multilingual import MultilingualEmbedder
from index.embed.transformer import SentenceTransformerEmbedder
from index.errors import ModelError

EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "sentence-transformers": SentenceTransformerEmbedder,
    "hash": HashEmbedder,
    "use-multilingual": MultilingualEmbedder,
}


def make_embedder(backend: str, model: str = "") -> Embedder:
    """Build a registered backend by name."""
    if backend not in EMBEDDERS:
        raise ModelError(f"unknown embedder {backend!r}; choose one of: {', '.join(sorted(EMBEDDERS))}")
    return EMBEDDERS[backend](model) if model else EMBEDDERS[backend]()


__all__ = ["DEFAULT_MODEL", "EMBEDDERS", "PROBE_TOLERANCE", "Embedder", "HashEmbedder", "MultilingualEmbedder",
           "Progress", "SentenceTransformerEmbedder", "default_model_path", "embed_batches", "fingerprint",
           "make_embedder"]
