"""Reading one complete, read-only generation of an index: its metadata, chunks, files and vectors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.records import Chunk
from index.store.manifest import verify_manifest
from index.store.meta import FileRecord, IndexMeta


class Generation:
    """One complete, read-only generation of an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        verify_manifest(folder)
        try:
            raw = json.loads((folder / "meta.json").read_text())
            self.meta = IndexMeta(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(f"index metadata in {folder} is unreadable ({exc})") from exc
        try:
            self._db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True,
                                       check_same_thread=False)
            count = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"chunk store in {folder} is damaged ({exc})") from exc
        if count != self.meta.n_chunks:
            raise IndexCorruptError(f"index in {folder} holds {count} chunks, expected {self.meta.n_chunks}; ")

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

    def file(self, path: str) -> FileRecord | None:
        """The record of one indexed file, or None."""
        row = self._db.execute("SELECT path, sha256, size, mtime, kind, lang, n_chunks FROM files WHERE path = ?",
                               (path,)).fetchone()
        return FileRecord(*row) if row else None

    def vectors(self) -> np.ndarray:
        vectors = np.load(self.folder / "vectors.npy", allow_pickle=False, mmap_mode="r")
        if vectors.shape != (self.meta.n_chunks, self.meta.dim):
            raise IndexCorruptError(f"vectors in {self.folder} have shape {vectors.shape}, expected "
                                    f"{(self.meta.n_chunks, self.meta.dim)}")
        return vectors

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())

    def close(self) -> None:
        self._db.close()
