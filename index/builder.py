"""Building and updating an index: discover, read, chunk, embed, write a new generation.

`update` re-reads every source; chunks and vectors of files whose content hash is unchanged are
copied from the current generation, and deleted files drop out. Only the chunks whose text is new
are embedded, by `build` and `update` alike: a chunk whose text the current generation already
holds (with the same model) takes its vector from there, so appending a paragraph re-embeds a chunk
or two, not the file; then the embedding cache (index/cache.py) gives back the work of an
interrupted run, so re-running a killed build resumes it. What the model embeds is saved to the
cache batch by batch, and the cache is deleted once the new generation is written; a Ctrl-C or
SIGTERM while embedding lets the batch in progress finish and be saved first (`index.interrupt`).

A bot's index is never replaced by one of other sources behind the user's back: which sources a
build with none named means is decided under the writer lock (`build` takes a function for that),
and `build_first` builds only into a folder that has never held an index nor a build's journal.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from index.cache import CACHE_NAME, EmbeddingCache, begin_run, pending_rows, pending_sources, remove_cache, text_key
from index.compat import Space, check_update, same_space
from index.embed import Embedder, embed_batches, fingerprint
from index.errors import Fix, IndexBusyError, IndexCorruptError, IndexMissingError, RagError, SourceError
from index.ingest.loaders import load
from index.ingest.sources import DEFAULT_MAX_BYTES, discover, resolve
from index.interrupt import FinishBatch
from index.lock import WriterLock
from index.records import BuildReport, Chunk, Document, Skipped
from index.store import Generation, IndexMeta, IndexStore
from index.store.writer import Tables
from index.text.chunking import Chunker, ChunkSettings
from index.text.language import UNKNOWN, terms
from index.wordvectors import FOLDER as WORDS
from index.wordvectors import Encode, WordVectors, merged, vocabulary, write_table

# progress(label, total) returns a function to call with each step's size.
ProgressFactory = Callable[[str, int], Callable[[int], None]]
Sources = Sequence[str] | Callable[[], Sequence[str]]  # paths, or a function naming them under the lock
CACHE_BATCH = 128  # texts embedded between two cache commits: what a kill can lose (~5 s on 2 cores)


def _no_progress(label: str, total: int) -> Callable[[int], None]:
    return lambda n: None


def has_history(root: Path) -> bool:
    """Whether `root` holds an index, what is left of one, or the journal of a build (running or not)."""
    if not root.is_dir():
        return False
    return any(p.name in ("CURRENT", CACHE_NAME) or p.name.startswith(("gen-", "tmp-")) for p in root.iterdir())


def recorded_sources(store: IndexStore) -> list[str] | None:
    """The sources an index recorded, read even when the index is damaged: those of the current
    generation, else of the newest one left, else of an interrupted build's journal; None if none."""
    root = store.root
    folders: list[Path] = []
    try:
        current = store.current_folder()
        folders += [current] if current is not None else []
    except IndexCorruptError:
        pass
    if root.is_dir():
        folders += sorted((p for p in root.iterdir() if p.name.startswith("gen-")), reverse=True)
    for folder in folders:
        try:
            sources = json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("sources")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(sources, list) and sources and all(isinstance(s, str) for s in sources):
            return sources
    return pending_sources(root) or None


def missing(store: IndexStore, locked: bool = False) -> RagError:
    """The error for a folder with no index: naming the build running there (IndexBusyError), or the
    one interrupted there, whose work is waiting to be resumed, not replaced (its journal says what it
    builds). `locked`: the caller holds the writer lock, so no other build can be running."""
    pending = pending_sources(store.root)
    what = f"of {' '.join(pending)} " if pending else ""
    holder = None if locked else WriterLock(store.root, create=False).busy()
    if holder is not None:
        return IndexBusyError(f"no index in {store.root} yet: a build {what}is running ({holder})")
    if pending is None:
        return IndexMissingError(f"no index in {store.root}")
    return IndexMissingError(f"no index in {store.root} yet: a build {what}was interrupted "
                             f"({pending_rows(store.root)} vectors saved); it was left as it is", Fix.REBUILD)


@dataclass
class _Entry:
    doc: Document
    chunks: list[Chunk]
    terms: list[list[str]]
    vectors: np.ndarray | None  # None until embedded


RACY_SECONDS = 2.0  # a file modified this close to the previous build is read, whatever its size and time


def _seconds(built_at: str) -> float:
    """`2026-11-29T12:03:04+0000` as a POSIX time; 0 (so every file is read) when it does not parse."""
    from datetime import datetime

    try:
        return datetime.strptime(built_at, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return 0.0


class Builder:
    def __init__(self, store: IndexStore, embedder: Embedder, chunking: ChunkSettings,
                 max_bytes: int = DEFAULT_MAX_BYTES, progress: ProgressFactory | None = None,
                 wait: bool = False, on_wait: Callable[[str], None] | None = None,
                 on_interrupt: Callable[[str], None] | None = None, word_encoder: Encode | None = None) -> None:
        chunking.check(embedder.max_tokens)
        self.store, self.embedder, self.chunking = store, embedder, chunking
        self.word_encoder = word_encoder  # embeds the documents' words (index/wordvectors.py); None: no table
        self.max_bytes, self.wait, self.on_wait = max_bytes, wait, on_wait
        self.on_interrupt = on_interrupt  # told when a signal will stop the build after the batch in progress
        self.progress = progress or _no_progress

    @cached_property
    def probe(self) -> list[float]:
        """The embedder's fingerprint, computed once per builder (it embeds a sentence)."""
        return fingerprint(self.embedder)

    def build(self, sources: Sources) -> BuildReport:
        """Index `sources` from scratch; the previous index stays current until this one is complete.

        `sources` may be a function, called once the writer lock is held: "the bot's sources" are
        then those recorded by whatever build ran before this one, not by what was there when it waited.
        """
        with WriterLock(self.store.root, self.wait, self.on_wait):
            return self._run(list(sources() if callable(sources) else sources), previous=None)

    def build_first(self, sources: Callable[[], Sequence[str]]) -> BuildReport | None:
        """Build the first index of a folder that has none: None when an index exists (maybe made by the
        build this call waited for). A folder with a build's journal or a damaged index is not built
        over: that is reported (IndexMissingError; IndexCorruptError for a damaged one), and nothing
        is changed."""
        with WriterLock(self.store.root, True, self.on_wait):
            if self.store.exists():  # raises IndexCorruptError for a CURRENT that points nowhere
                return None
            if has_history(self.store.root):
                raise missing(self.store, locked=True)
            return self._run(list(sources()), previous=None)

    def update(self) -> BuildReport:
        """Rescan the sources of the current index, re-embedding only what changed."""
        with WriterLock(self.store.root, self.wait, self.on_wait):
            return self._update()

    def _update(self) -> BuildReport:
        if not self.store.exists():
            raise missing(self.store, locked=True)
        previous = self.store.open()
        check_update(previous.meta, self.embedder, self.chunking, self.probe)
        return self._run(previous.meta.sources, previous)

    def _run(self, sources: list[str], previous: Generation | None) -> BuildReport:
        began = time.perf_counter()
        sources = resolve(sources)  # recorded absolute, so that an update works from any directory
        begin_run(self.store.root, sources)
        found, skipped = discover(sources, self.max_bytes)
        old = {f.path: f for f in previous.files()} if previous else {}
        entries: list[_Entry] = []
        reused = 0
        old_terms: list[list[str]] | None = None  # every chunk's terms, read once if a file is reused
        advance = self.progress("reading", len(found))
        chunker = Chunker(self.chunking, self.embedder.count_tokens)
        racy = _seconds(previous.meta.built_at) - RACY_SECONDS if previous else 0.0
        for item in found:
            record = old.get(item.name)
            if record is not None and (record.size, record.mtime) == (item.size, item.mtime) and item.mtime < racy:
                # Same size and time as when indexed: taken as unchanged without reading it (a PDF or an
                # office file is parsed again otherwise); the new generation needs only its record. A
                # file changed within seconds of that build could keep its size and (coarse) time: read.
                doc: Document | Skipped = Document(record.path, "", record.kind, record.sha256, record.size,
                                                   record.mtime, record.lang)
            else:
                doc = load(item)
            advance(1)
            if isinstance(doc, Skipped):
                skipped.append(doc)
                continue
            record = old.get(doc.path)
            if previous is not None and record is not None and record.sha256 == doc.sha256:
                ids = previous.chunk_ids_for(doc.path)
                old_terms = previous.terms() if old_terms is None else old_terms
                entries.append(_Entry(doc, previous.chunks(ids), [old_terms[i] for i in ids],
                                      np.asarray(previous.vectors()[ids])))
                reused += 1
                continue
            chunks = chunker.split(doc)
            entries.append(_Entry(doc, chunks, [terms(c.text, c.lang) for c in chunks], None))
        if not entries:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
            raise SourceError(f"nothing to index in {' '.join(sources)}" + (f" ({reasons})" if reasons else "")
                              + "; the current index was left unchanged")
        probe = self.probe
        fresh = [c for e in entries if e.vectors is None for c in e.chunks]  # read and split by this run
        embedded, resumed, notes = self._embed([e for e in entries if e.vectors is None], previous, probe, sources)
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
            probe=probe,
        )
        self.store.write(meta, [(e.doc, len(e.chunks)) for e in entries], chunks,
                         [t for e in entries for t in e.terms], vectors,
                         self._word_table(chunks, fresh if previous is not None else None))
        remove_cache(self.store.root)  # its vectors are in the new generation now
        return BuildReport(
            files_indexed=len(entries), chunks=len(chunks), chunks_embedded=embedded, files_reused=reused,
            files_removed=len(set(old) - {e.doc.path for e in entries}),
            seconds=time.perf_counter() - began, skipped=tuple(skipped),
            chunks_reused=len(chunks) - embedded, chunks_resumed=resumed, notes=tuple(notes),
        )

    def _word_table(self, chunks: list[Chunk], fresh: list[Chunk] | None) -> Tables | None:
        """What writes the documents' word vectors into the new generation, reusing the previous one's.
        A build takes the words of all `chunks`; an update those of the chunks it read (`fresh`) added
        to the previous table's (not read again: a deleted file's words stay until a build), or all of
        them when the previous generation has no table (made before tables, or without the encoder)."""
        encode = self.word_encoder
        if encode is None:
            return None

        def write(folder: Path, previous: Path | None) -> None:
            reuse = previous / WORDS if previous is not None else None
            kept = WordVectors(reuse).words() if reuse is not None and fresh is not None else []
            if kept:
                vocab = merged(kept, vocabulary((c.text, c.lang) for c in fresh or []))
            else:
                vocab = vocabulary((c.text, c.lang) for c in chunks)
            write_table(folder / WORDS, vocab, encode, reuse, lambda n: self.progress("words", n))

        return write

    def _embed(self, entries: list[_Entry], previous: Generation | None, probe: list[float],
               sources: list[str]) -> tuple[int, int, list[str]]:
        """Give each entry its vectors: from the current generation where a chunk's text is there, then
        from the cache, and embed the rest (each text once), saving each batch to the cache as it is made.

        Returns the number of texts embedded, of chunks whose vector came from the cache, and notes.
        """
        texts = [c.text for e in entries for c in e.chunks]
        empty = np.zeros((0, self.embedder.dim), np.float32)
        if not texts:
            for e in entries:
                e.vectors = empty
            return 0, 0, []
        keys = [text_key(t) for t in texts]
        wanted = set(keys)
        found = self._from_index(previous, wanted, probe)
        cache = EmbeddingCache(self.store.root, Space.of(self.embedder, probe), sources)
        try:
            with FinishBatch(self.on_interrupt) as stop:
                # rows of earlier runs on other sources go, so the file stays small
                dropped = cache.keep_only(wanted)
                if dropped:
                    cache.notes.append(f"{dropped} saved vector(s) of an earlier, interrupted build of other "
                                       "files were dropped")
                cached = cache.get([k for k in wanted if k not in found])
                found.update(cached)
                todo = list({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
                advance = self.progress("embedding", len(todo)) if todo else None
                saved = len(cached)
                stop.check(saved)
                # batches in order here; on a cluster (index/embed/distributed.py) as its workers finish them
                with closing(embed_batches(self.embedder, todo, CACHE_BATCH, advance)) as batches:
                    for batch_keys, made in batches:
                        cache.put(zip(batch_keys, made, strict=True))
                        found.update(zip(batch_keys, made, strict=True))
                        saved += len(batch_keys)
                        stop.check(saved)
        finally:
            cache.close()
        offset = 0
        for e in entries:
            n = len(e.chunks)
            e.vectors = np.stack([found[k] for k in keys[offset:offset + n]]) if n else empty
            offset += n
        return len(todo), sum(k in cached for k in keys), cache.notes

    def _from_index(self, previous: Generation | None, wanted: set[bytes],
                    probe: list[float]) -> dict[bytes, np.ndarray]:
        """Vectors of the current generation for the chunk texts in `wanted`, if the same model made them.

        A build (no `previous`) looks at the current index too: a rebuild of mostly the same files
        reuses their vectors; an index it cannot open just gives nothing.
        """
        donor = previous
        if donor is None:
            try:
                donor = self.store.open()
            except (IndexMissingError, IndexCorruptError):
                return {}
        try:
            if not same_space(Space.recorded(donor.meta), Space.of(self.embedder, probe)):
                return {}
            ids: dict[bytes, int] = {}
            for chunk_id, text in donor.texts():
                key = text_key(text)
                if key in wanted:
                    ids.setdefault(key, chunk_id)
            rows = np.asarray(donor.vectors()[list(ids.values())], dtype=np.float32) if ids else None
            return dict(zip(ids, rows, strict=True)) if rows is not None else {}
        except (IndexCorruptError, sqlite3.DatabaseError, OSError, ValueError):
            if previous is not None:  # an update needs the current index anyway; let it fail as before
                raise
            return {}
        finally:
            if donor is not previous:
                donor.close()
