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
time, never accuracy.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

SIZE = 20_000
log = logging.getLogger("rag.server")
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


class Warmer:
    """Embeds the sentences of a bot's current index into its `CachedEmbedder`, in a thread."""

    def __init__(self, name: str, assistant: Any) -> None:
        self.name, self.assistant = name, assistant
        self.stop, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rag-warm-{name}", daemon=True)

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
            for start in range(0, len(texts), LARGEST_CALL):
                if self.stop.is_set():
                    return
                embedder.embed(texts[start:start + LARGEST_CALL])
        finally:
            self.done.set()
