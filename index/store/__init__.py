"""The on-disk index of one knowledge base: a folder of generations and a pointer to the current one.

    <root>/CURRENT            name of the current generation folder
    <root>/gen-<time>-<rand>/ meta.json, chunks.sqlite, vectors.npy, dense.faiss, lexical/, files/,
                                      manifest.json
    <root>/embeddings.sqlite  vectors of a build not yet finished, for resuming it (index/cache.py)

Reading a generation is `generation.py`, writing one `writer.py`, its checksums `manifest.py` and
what it records about itself `meta.py`. A legacy pickle found in an index folder is refused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError, IndexMissingError
from index.records import Chunk, Document
from index.store.generation import Generation
from index.store.meta import SCHEMA_VERSION, FileRecord, IndexMeta
from index.store.writer import Tables, write_generation


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
            raise IndexCorruptError(f"{self.root}/CURRENT points at a missing generation {name!r}")
        return folder

    def exists(self) -> bool:
        return self.current_folder() is not None

    def built_at(self) -> str:
        """When the current generation was built (its meta's `built_at`), read without opening or checking
        it: cheap enough for every page view or poll. "" when there is no index or it cannot be read."""
        try:
            folder = self.current_folder()
            return str(json.loads((folder / "meta.json").read_text())["built_at"]) if folder else ""
        except (IndexCorruptError, OSError, ValueError, KeyError, TypeError):
            return ""

    def open(self) -> Generation:
        folder = self.current_folder()
        if folder is None:
            raise IndexMissingError(f"no index in {self.root}")
        for place in (self.root, folder):
            for legacy in (*place.glob("*.pkl"), *place.glob("*.pickle")):
                raise IndexCorruptError(f"{legacy} is a pickle file; rag never loads pickles (they can run code); "
                                        "delete it")
        return Generation(folder)

    def write(self, meta: IndexMeta, docs: Iterable[tuple[Document, int]], chunks: Sequence[Chunk],
              terms: Sequence[Sequence[str]], vectors: np.ndarray, tables: Tables | None = None) -> Path:
        """Write a complete generation, then make it current atomically; returns its folder."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            previous = self.current_folder()
        except IndexCorruptError:
            previous = None
        name = write_generation(self.root, meta, list(docs), chunks, terms, vectors, previous, tables)
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


__all__ = ["SCHEMA_VERSION", "FileRecord", "Generation", "IndexMeta", "IndexStore"]
