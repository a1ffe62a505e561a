"""Building and updating an index: discover, read, chunk, embed, write a new generation.

`update` re-reads every source but re-embeds only files whose content hash changed; chunks and
vectors of unchanged files are copied from the current generation, and deleted files drop out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.chunking import Chunker, ChunkSettings
from index.embedder import Embedder, fingerprint
from index.errors import IndexMismatchError, SourceError
from index.language import UNKNOWN, terms
from index.loaders import load
from index.lock import WriterLock
from index.records import BuildReport, Chunk, Document, Skipped
from index.sources import DEFAULT_MAX_BYTES, discover
from index.store import Generation, IndexMeta, IndexStore

# progress(label, total) returns a function to call with each step's size.
ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class _Entry:
    doc: Document
    chunks: list[Chunk]
    terms: list[list[str]]
    vectors: np.ndarray | None  # None until embedded


class Builder:
    def __init__(self, store: IndexStore, embedder: Embedder, chunking: ChunkSettings,
                 max_bytes: int = DEFAULT_MAX_BYTES, progress: ProgressFactory | None = None,
                 wait: bool = False) -> None:
        chunking.check(embedder.max_tokens)
        self.store, self.embedder, self.chunking = store, embedder, chunking
        self.max_bytes, self.wait = max_bytes, wait
        self.progress = progress or _no_progress

    def build(self, sources: Sequence[str]) -> BuildReport:
        """Index `sources` from scratch; the previous index stays current until this one is complete."""
        with WriterLock(self.store.root, self.wait):
            return self._run(list(sources), previous=None)

    def update(self) -> BuildReport:
        """Rescan the sources of the current index, re-embedding only what changed."""
        with WriterLock(self.store.root, self.wait):
            return self._update()

    def _update(self) -> BuildReport:
        previous = self.store.open()
        meta = previous.meta
        if (meta.model_id, meta.chunk_size, meta.chunk_overlap) != (
                self.embedder.model_id, self.chunking.size, self.chunking.overlap):
            raise IndexMismatchError(
                f"the index was built with model {meta.model_id}, chunks {meta.chunk_size}/{meta.chunk_overlap}; "
                "an update must use the same settings; rebuild with: rag index build PATH...")
        return self._run(meta.sources, previous)

    def _run(self, sources: list[str], previous: Generation | None) -> BuildReport:
        began = time.perf_counter()
        found, skipped = discover(sources, self.max_bytes)
        old = {f.path: f for f in previous.files()} if previous else {}
        entries: list[_Entry] = []
        reused = 0
        advance = self.progress("reading", len(found))
        chunker = Chunker(self.chunking, self.embedder.count_tokens)
        for item in found:
            doc = load(item)
            advance(1)
            if isinstance(doc, Skipped):
                skipped.append(doc)
                continue
            record = old.get(doc.path)
            if previous is not None and record is not None and record.sha256 == doc.sha256:
                ids = previous.chunk_ids_for(doc.path)
                all_terms = self._old_terms(previous)
                entries.append(_Entry(doc, previous.chunks(ids), [all_terms[i] for i in ids],
                                      np.asarray(previous.vectors()[ids])))
                reused += 1
                continue
            chunks = chunker.split(doc)
            entries.append(_Entry(doc, chunks, [terms(c.text, c.lang) for c in chunks], None))
        if not entries:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
            raise SourceError(f"nothing to index in {' '.join(sources)}" + (f" ({reasons})" if reasons else "")
                              + "; the current index was left unchanged")
        embedded = self._embed([e for e in entries if e.vectors is None])
        chunks = [c for e in entries for c in e.chunks]
        vectors = np.concatenate([e.vectors for e in entries if e.vectors is not None and len(e.vectors)]
                                 or [np.zeros((0, self.embedder.dim), np.float32)])
        meta = IndexMeta(
            model_id=self.embedder.model_id, dim=self.embedder.dim, chunk_size=self.chunking.size,
            chunk_overlap=self.chunking.overlap, sources=sources,
            languages=sorted({e.doc.lang for e in entries} - {UNKNOWN}), n_chunks=len(chunks),
            n_files=len(entries), built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            build_seconds=round(time.perf_counter() - began, 3),
            skipped=[{"path": s.path, "reason": s.reason} for s in skipped],
            probe=fingerprint(self.embedder),
        )
        self.store.write(meta, [(e.doc, len(e.chunks)) for e in entries], chunks,
                         [t for e in entries for t in e.terms], vectors)
        return BuildReport(
            files_indexed=len(entries), chunks=len(chunks), chunks_embedded=embedded, files_reused=reused,
            files_removed=len(set(old) - {e.doc.path for e in entries}),
            seconds=time.perf_counter() - began, skipped=tuple(skipped),
        )

    def _old_terms(self, previous: Generation) -> list[list[str]]:
        if not hasattr(self, "_terms_cache"):
            self._terms_cache = previous.terms()
        return self._terms_cache

    def _embed(self, entries: list[_Entry]) -> int:
        texts = [c.text for e in entries for c in e.chunks]
        vectors = self.embedder.embed(texts, progress=self.progress("embedding", len(texts))) if texts else None
        offset = 0
        for e in entries:
            n = len(e.chunks)
            empty = np.zeros((0, self.embedder.dim), np.float32)
            e.vectors = vectors[offset:offset + n] if vectors is not None else empty
            offset += n
        return len(texts)
