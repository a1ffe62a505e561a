"""The on-disk index of one knowledge base: a folder of generations and a pointer to the current one.

    <root>/CURRENT            name of the current generation folder
    <root>/gen-<time>-<rand>/ meta.json, chunks.sqlite, vectors.npy, dense.faiss, lexical/, files/,
                                      manifest.json
    <root>/embeddings.sqlite  vectors of a build not yet finished, for resuming it (index/cache.py)

A build writes a complete new generation beside the old one, fsyncs it, and then replaces CURRENT
in one atomic rename, so a reader sees the old index or the new one, never a mix, and an
interrupted build leaves the old one in place. The manifest, written last, records every file's
size and SHA-256; opening a generation checks it, so a truncated or garbled file is reported, never
read as an empty result. Nothing here is pickled: JSON, SQLite, .npy without pickle and FAISS's
own binary format; a legacy pickle found in an index folder is refused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError, IndexMissingError, RagError
from index.records import Chunk, Document

SCHEMA_VERSION = 1
FULL_CHECK_BYTES = 64 * 1024 * 1024  # files up to this size are checksummed on every open; larger by size
_REBUILD = "rebuild with: rag index build PATH..."


class IndexWriteError(RagError):
    """The disk refused the new index (full, quota, file too large); the previous one is still current."""

    exit_code = 8
_SCHEMA = """
CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT, size INTEGER, mtime REAL, kind TEXT, lang TEXT,
                    n_chunks INTEGER);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, path TEXT, start INTEGER, end INTEGER, line_start INTEGER,
                     line_end INTEGER, page INTEGER, heading TEXT, lang TEXT, text TEXT, terms TEXT);
CREATE INDEX chunks_path ON chunks(path);
"""


@dataclass(frozen=True)
class IndexMeta:
    """The settings that built an index; queries with other settings are refused."""

    model_id: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    sources: list[str]
    languages: list[str]
    n_chunks: int
    n_files: int
    built_at: str
    build_seconds: float
    schema_version: int = SCHEMA_VERSION
    normalized: bool = True
    skipped: list[dict[str, str]] = field(default_factory=list)
    probe: list[float] = field(default_factory=list)  # the model's embedding of a fixed sentence


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    mtime: float
    kind: str
    lang: str
    n_chunks: int


class Generation:
    """One complete, read-only generation of an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        verify_manifest(folder)
        try:
            raw = json.loads((folder / "meta.json").read_text())
            self.meta = IndexMeta(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"index metadata in {folder} is unreadable ({exc}); {_REBUILD}") from exc
        try:
            self._db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True,
                                       check_same_thread=False)
            count = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chunk store in {folder} is damaged ({exc}); {_REBUILD}") from exc
        if count != self.meta.n_chunks:
            raise IndexCorruptError(f"index in {folder} holds {count} chunks, expected {self.meta.n_chunks}; "
                                    f"{_REBUILD}")

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id, path, start, end, line_start, line_end, heading, text, lang, page "
                                f"FROM chunks WHERE id IN ({marks})", list(ids)).fetchall()
        by_id = {r[0]: Chunk(*r[1:]) for r in rows}
        return [by_id[i] for i in ids]

    def chunk_ids_for(self, path: str) -> list[int]:
        return [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ? ORDER BY id", (path,))]

    def texts(self) -> Iterator[tuple[int, str]]:
        """(id, text) of every chunk, streamed, for finding vectors a new build can reuse."""
        return iter(self._db.execute("SELECT id, text FROM chunks"))

    def terms(self) -> list[list[str]]:
        return [t.split(" ") if t else [] for (t,) in self._db.execute("SELECT terms FROM chunks ORDER BY id")]

    def files(self) -> list[FileRecord]:
        return [FileRecord(*r) for r in self._db.execute(
            "SELECT path, sha256, size, mtime, kind, lang, n_chunks FROM files ORDER BY path")]

    def vectors(self) -> np.ndarray:
        vectors = np.load(self.folder / "vectors.npy", allow_pickle=False, mmap_mode="r")
        if vectors.shape != (self.meta.n_chunks, self.meta.dim):
            raise IndexCorruptError(f"vectors in {self.folder} have shape {vectors.shape}, expected "
                                    f"{(self.meta.n_chunks, self.meta.dim)}; rebuild with: rag index build PATH...")
        return vectors

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def close(self) -> None:
        self._db.close()


class IndexStore:
    """The folder of one knowledge base's index."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current_folder(self) -> Path | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        folder = self.root / name
        if not name or not folder.is_dir():
            raise IndexCorruptError(f"{self.root}/CURRENT points at a missing generation {name!r}; "
                                    "rebuild with: rag index build PATH...")
        return folder

    def exists(self) -> bool:
        return self.current_folder() is not None

    def open(self) -> Generation:
        folder = self.current_folder()
        if folder is None:
            raise IndexMissingError(f"no index in {self.root}; build one with: rag index build PATH...")
        for place in (self.root, folder):
            for legacy in (*place.glob("*.pkl"), *place.glob("*.pickle")):
                raise IndexCorruptError(f"{legacy} is a pickle file; rag never loads pickles (they can run code); "
                                        f"delete it and {_REBUILD}")
        return Generation(folder)

    def write(self, meta: IndexMeta, docs: Iterable[tuple[Document, int]], chunks: Sequence[Chunk],
              terms: Sequence[Sequence[str]], vectors: np.ndarray) -> Path:
        """Write a complete generation, then make it current atomically; returns its folder."""
        docs = list(docs)
        from index.dense import build_dense, save_dense
        from index.lexical import FileIndex, LexicalIndex

        self.root.mkdir(parents=True, exist_ok=True)
        try:
            previous = self.current_folder()
        except IndexCorruptError:
            previous = None
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        tmp = self.root / f"tmp-{name}"
        tmp.mkdir()
        try:
            db = sqlite3.connect(tmp / "chunks.sqlite")
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO files VALUES (?,?,?,?,?,?,?)",
                           [(d.path, d.sha256, d.size, d.mtime, d.kind, d.lang, n) for d, n in docs])
            db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
                (i, c.path, c.start, c.end, c.line_start, c.line_end, c.page, c.heading, c.lang, c.text,
                 " ".join(t)) for i, (c, t) in enumerate(zip(chunks, terms, strict=True))])
            db.commit()
            db.close()
            np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
            save_dense(build_dense(vectors), tmp / "dense.faiss")
            LexicalIndex.build(terms).save(tmp / "lexical")
            file_number = {d.path: n for n, (d, _) in enumerate(docs)}
            FileIndex.build(terms, [file_number[c.path] for c in chunks]).save(tmp / "files")
            (tmp / "meta.json").write_text(json.dumps(asdict(meta), indent=2, ensure_ascii=False))
            write_manifest(tmp)
            _fsync_tree(tmp)
            os.rename(tmp, self.root / name)
            pointer = self.root / "CURRENT.tmp"
            with open(pointer, "w") as fh:
                fh.write(name)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(pointer, self.root / "CURRENT")
            _fsync_dir(self.root)
        except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
            # FAISS reports a failed write as RuntimeError, SQLite as "disk I/O error" or "disk is full".
            shutil.rmtree(tmp, ignore_errors=True)
            if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "disk" in str(exc) \
                    or "write" in str(exc).lower():
                reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
                raise IndexWriteError(f"could not write the new index ({reason}); the previous index is "
                                      "still in use and the partial files were removed; free space and retry") from exc
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune(keep={name, previous.name} if previous else {name})
        return self.root / name

    def _prune(self, keep: set[str]) -> None:
        """Remove older generations and leftovers of interrupted builds (callers hold the writer lock).

        The generation just replaced is kept, so a reader that read CURRENT a moment before the
        switch can still open it; the one before that goes.
        """
        for entry in self.root.iterdir():
            if entry.is_dir() and entry.name not in keep and entry.name.startswith(("gen-", "tmp-")):
                shutil.rmtree(entry, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    entries = {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}
    (folder / "manifest.json").write_text(json.dumps(entries, indent=1))


def verify_manifest(folder: Path) -> None:
    """Raise IndexCorruptError unless every file the manifest names is there, whole and unchanged."""
    try:
        entries = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest in {folder} is missing or unreadable; {_REBUILD}") from exc
    for name, expected in entries.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            raise IndexCorruptError(f"index file {path} is missing; {_REBUILD}") from None
        if size != expected["size"]:
            raise IndexCorruptError(f"index file {path} is {size} bytes, expected {expected['size']} "
                                    f"(truncated?); {_REBUILD}")
        if size <= FULL_CHECK_BYTES and _sha256(path) != expected["sha256"]:
            raise IndexCorruptError(f"index file {path} does not match its checksum (damaged); {_REBUILD}")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
