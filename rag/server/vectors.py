"""The embedder of a long-running server, with a memory of the vectors it has made.

97% of an extractive answer's time is the embedding model's forward pass over the sentences of the
retrieved passages (`rag.answerers.extractive.candidates`; measured on squad_it_dev, bench/load.py).
Those sentences are the index's own and come back question after question; a vector depends only on
the text and the model, never on the index generation, so it can be kept: up to `SIZE` vectors
(384 floats each: about 30 MiB), least recently used out first. Large calls (a build's batches) pass
through untouched. `Warmer` embeds every sentence of an index that fits, in a background thread, from
the start: answers asked meanwhile are served as usual (and fill it too). At a lower priority (nice
10) it starved behind the other jobs of a busy machine: 9 minutes for squad_it_dev's 4,302
sentences. A sentence the answerer cuts (over 400 characters) is computed when asked: a miss costs
time, never accuracy. The vectors of a bot's sentences are saved in `$RAG_HOME/cache/sentence-vectors/`
(keyed by each text's SHA-1, with the model's probe vector), so that a restart or another worker
starts warm; a file that does not match the model, or cannot be read, is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 20_000
LARGEST_CALL = 64  # texts; more is a build, not a question
log = logging.getLogger("rag.server")


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


class CachedEmbedder:
    """Wraps an `Embedder`: the same attributes, and `embed` answered from memory where it can."""

    def __init__(self, inner: Any, size: int = SIZE) -> None:
        self.inner, self.size = inner, size
        self._vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # answers run in several threads
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:  # model_id, dim, max_tokens, count_tokens...
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self._vectors)

    def embed(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        if progress is not None or len(texts) > LARGEST_CALL:
            return self.inner.embed(texts, progress)  # type: ignore[no-any-return]
        keys = [_key(t) for t in texts]
        with self._lock:
            found = {k: self._vectors[k] for k in keys if k in self._vectors}
            for key in found:
                self._vectors.move_to_end(key)
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if missing:
            made = self.inner.embed(list(missing.values()))
            with self._lock:
                for key, vector in zip(missing, made, strict=True):
                    self._vectors[key] = found[key] = vector
                self._trim()
        self.hits, self.misses = self.hits + len(texts) - len(missing), self.misses + len(missing)
        if not texts:
            return np.zeros((0, self.inner.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def _trim(self) -> None:
        while len(self._vectors) > self.size:
            self._vectors.popitem(last=False)

    def save(self, path: Path, texts: Sequence[str]) -> None:
        """The vectors of `texts` (those it holds) to `path`, replaced atomically."""
        from index.embed.base import fingerprint

        with self._lock:
            held = [(k, self._vectors[k]) for k in map(_key, texts) if k in self._vectors]
        if not held:
            return
        keys = np.frombuffer(b"".join(k for k, _ in held), dtype=np.uint8).reshape(-1, 20)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        with partial.open("wb") as out:
            np.savez(out, keys=keys, vectors=np.stack([v for _, v in held]),
                     probe=np.array(fingerprint(self.inner), dtype=np.float32))
        os.replace(partial, path)

    def load(self, path: Path) -> int:
        """Vectors saved by `save` with this model; how many (0 for a missing, foreign or broken file)."""
        from index.embed.base import PROBE_TOLERANCE, fingerprint

        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors, probe = data["keys"], data["vectors"], data["probe"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return 0
        if (keys.ndim != 2 or keys.shape[1] != 20 or vectors.ndim != 2 or len(vectors) != len(keys)
                or vectors.shape[1] != self.inner.dim or probe.shape != (len(fingerprint(self.inner)),)
                or not np.allclose(probe, fingerprint(self.inner), atol=PROBE_TOLERANCE)):
            return 0
        with self._lock:
            for key, vector in zip(keys, vectors.astype(np.float32), strict=True):
                self._vectors[key.tobytes()] = vector
            self._trim()
        return len(keys)


class Warmer:
    """Embeds the sentences of a bot's current index into its `CachedEmbedder`, in a thread: from the
    saved file where it can, with the model for the rest, and saves them when it made any."""

    def __init__(self, name: str, assistant: Any) -> None:
        self.name, self.assistant = name, assistant
        self.stop, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rag-warm-{name}", daemon=True)

    def path(self) -> Path:
        return Path(self.assistant.settings.home) / "cache" / "sentence-vectors" / f"{self.name}.npz"

    def _run(self) -> None:
        from index.text.sentences import split_sentences

        try:
            embedder = self.assistant.embedder
            if not isinstance(embedder, CachedEmbedder):
                return
            generation = self.assistant.searcher.generation
            texts = list(dict.fromkeys(s.text for _, text in generation.texts() for s in split_sentences(text)))
            if len(texts) > embedder.size:
                log.info("rag.server: %s has %d sentences, more than the %d kept; they are remembered as asked",
                         self.name, len(texts), embedder.size)
                return
            embedder.load(self.path())
            before = embedder.misses
            for start in range(0, len(texts), LARGEST_CALL):
                if self.stop.is_set():
                    return
                embedder.embed(texts[start:start + LARGEST_CALL])
            if embedder.misses > before:
                try:
                    embedder.save(self.path(), texts)
                except OSError as exc:  # a read-only home: the next start computes them again
                    log.warning("rag.server: cannot save sentence vectors to %s (%s)", self.path(), exc.strerror)
        finally:
            self.done.set()
