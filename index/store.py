"""The on-disk index of one knowledge base: a folder of generations and a pointer to the current one.

    <root>/CURRENT            name of the current generation folder
    <root>/gen-<time>-<rand>/ meta.json, chunks.sqlite, vectors.npy, dense.faiss, lexical/

A build writes a complete new generation beside the old one and then replaces CURRENT in one
atomic rename, so a reader sees the old index or the new one, never a mix, and an interrupted
build leaves the old one in place. Nothing here is pickled: JSON, SQLite, .npy without pickle and
FAISS's own binary format.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError, IndexMissingError
from index.records import Chunk, Document

SCHEMA_VERSION = 1
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
        try:
            raw = json.loads((folder / "meta.json").read_text())
            self.meta = IndexMeta(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"index metadata in {folder} is unreadable ({exc}); "
                                    "rebuild with: rag index build PATH...") from exc
        self._db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        count = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if count != self.meta.n_chunks:
            raise IndexCorruptError(f"index in {folder} holds {count} chunks, expected {self.meta.n_chunks}; "
                                    "rebuild with: rag index build PATH...")

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
        return Generation(folder)

    def write(self, meta: IndexMeta, docs: Iterable[tuple[Document, int]], chunks: Sequence[Chunk],
              terms: Sequence[Sequence[str]], vectors: np.ndarray) -> Path:
        """Write a complete generation, then make it current atomically; returns its folder."""
        from index.dense import build_dense, save_dense
        from index.lexical import LexicalIndex

        self.root.mkdir(parents=True, exist_ok=True)
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
            (tmp / "meta.json").write_text(json.dumps(asdict(meta), indent=2, ensure_ascii=False))
            _fsync_tree(tmp)
            os.rename(tmp, self.root / name)
            pointer = self.root / "CURRENT.tmp"
            with open(pointer, "w") as fh:
                fh.write(name)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(pointer, self.root / "CURRENT")
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._prune(keep=name)
        return self.root / name

    def _prune(self, keep: str) -> None:
        """Remove older generations and leftovers of interrupted builds."""
        for entry in self.root.iterdir():
            if entry.is_dir() and entry.name != keep and entry.name.startswith(("gen-", "tmp-")):
                shutil.rmtree(entry, ignore_errors=True)


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
