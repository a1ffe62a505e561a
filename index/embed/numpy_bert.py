"""The forward pass of a BERT sentence-transformer (mean pooling, unit length) in plain NumPy.

Why: `import sentence_transformers` costs about 5 s on our 2-core machines, more than everything
else a one-off `rag ask` does. A question is a few dozen word pieces, and the same weights
(read from the model's safetensors file) run through the same operations in NumPy in milliseconds,
with no torch import at all. Large batches, such as a whole corpus at build time, still go
through sentence-transformers; `tests/index/test_numpy_bert.py` checks that both give the same
vectors (to 1e-5) on the bundled model.

It covers exactly the architecture of all-MiniLM-L6-v2 and its kin: BertModel, absolute
positions, GELU (erf), mean pooling over the attention mask, then L2 normalisation. `supports()`
says whether a model folder is one of those; anything else uses sentence-transformers only.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from pathlib import Path

import numpy as np


def supports(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        modules = json.loads((folder / "modules.json").read_text())
    except (OSError, ValueError):
        return False
    kinds = [m.get("type", "") for m in modules]
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and pooling.get("pooling_mode_mean_tokens") and not pooling.get("pooling_mode_cls_token")
            and (folder / "model.safetensors").exists()
            and kinds[:2] == ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
            and all(k.endswith("Normalize") for k in kinds[2:]))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float32 (NumPy has none): Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, float32's own grain.

    Horner's rule in place keeps a (tokens x 1536) activation to a few temporaries; this runs 30
    times a question, so it is a third of the forward pass.
    """
    z = np.abs(x)
    t = z * 0.3275911
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * 1.061405429
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += c
        poly *= t
    z *= z
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # 1 - erf(|x|)
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


@functools.cache
def _blas_threads():  # type: ignore[no-untyped-def]
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finding the BLAS libraries once: 0.4 ms a call otherwise


def _free_cores() -> int:
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this system: play safe
        return 1
    return cores if busy < cores - 0.5 else 1


_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """The float tensors of a safetensors file. A float32 one is mapped, not read: each tensor is a view
    of the file in the page cache, so a cold start copies nothing (the word-piece table alone is 45 MB, of
    which a question touches a few rows); it was 0.2-0.3 s of a cold `rag ask` as read and converted
    copies. The format is an 8-byte header length, a JSON header of dtype, shape and offsets, then the
    raw little-endian data. Other dtypes are converted to float32; bfloat16 goes through safetensors."""
    import mmap

    with open(path, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    size = int.from_bytes(mapped[:8], "little")
    header = json.loads(mapped[8:8 + size])
    header.pop("__metadata__", None)
    floats = {name: info for name, info in header.items() if info["dtype"].startswith(("F", "BF"))}
    if any(info["dtype"] not in _DTYPES for info in floats.values()) or sys.byteorder != "little":
        from safetensors.numpy import load_file

        return {k: v.astype(np.float32) for k, v in load_file(str(path)).items() if k in floats}
    out = {}
    for name, info in floats.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        array = np.frombuffer(mapped, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=8 + size + begin)
        out[name] = array.reshape(info["shape"]).astype(np.float32, copy=False)
    return out


class NumpyBert:
    def __init__(self, folder: Path, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads, self.layers = config["num_attention_heads"], config["num_hidden_layers"]
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_weights(folder / "model.safetensors")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        for name in [k for k, v in self.w.items() if k.startswith("encoder.") and v.ndim == 2]:
            # (in, out) as a transposed view of the file's (out, in): BLAS reads it as it lies, no copy
            self.w[f"{name}.T"] = self.w.pop(name).T
        for i in range(self.layers):  # query, key and value in one product: a third of the calls for a question
            p = f"encoder.layer.{i}.attention.self"
            parts = [f"{p}.{n}" for n in ("query", "key", "value")]
            self.w[f"{p}.qkv.weight.T"] = np.concatenate([self.w.pop(f"{n}.weight.T") for n in parts], axis=1)
            self.w[f"{p}.qkv.bias"] = np.concatenate([self.w.pop(f"{n}.bias") for n in parts])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product (one BLAS call) rather than a stack of small ones.
        flat = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
        out = flat @ self.w[f"{name}.weight.T"]
        out += self.w[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], out.shape[-1])

    def embed(self, texts: list[str], batch_size: int = 8) -> np.ndarray:
        """Unit vectors of `texts`, as sentence-transformers would give them."""
        # Texts sorted by length and run in small batches: padding costs as much as real tokens.
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: sum(encodings[i].attention_mask))
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        # All cores when they are free; one when the machine is busy: OpenBLAS threads that spin-wait
        # for a busy core made a one-question call 30x slower (12 ms -> 420 ms) on a loaded 2-core
        # machine, while on an idle one two threads take 7 ms against 10.
        with _blas_threads().limit(limits=_free_cores(), user_api="blas"):
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                out[rows] = self._forward([encodings[i] for i in rows])
        return out

    def _forward(self, encodings: list) -> np.ndarray:  # type: ignore[type-arg]
        length = max(sum(e.attention_mask) for e in encodings)
        ids = np.array([e.ids[:length] for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask[:length] for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        x = (self.w["embeddings.word_embeddings.weight"][ids]
             + self.w["embeddings.position_embeddings.weight"][:length][None]
             + self.w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self._ln(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        size = hidden // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            qkv = self._dense(x, f"{p}.attention.self.qkv").reshape(batch, length, 3, self.heads, size)
            q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4))  # each (batch, heads, length, size)
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(size)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = self._ln(x + self._dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            inner = self._dense(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner * (1.0 / math.sqrt(2.0))))
            x = self._ln(x + self._dense(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
