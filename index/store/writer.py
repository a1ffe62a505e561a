"""Writing a complete new generation beside the current one, then switching to it atomically.

The generation is written in a `tmp-` folder, fsynced, renamed to `gen-<time>-<rand>`, and only
then is CURRENT replaced in one atomic rename, so a reader sees the old index or the new one, never
a mix, and an interrupted write leaves the old one in place. Nothing is pickled: JSON, SQLite,
.npy without pickle and FAISS's own binary format.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.errors import IndexWriteError
from index.records import Chunk, Document
from index.store.manifest import fsync_dir, fsync_tree, write_manifest
from index.store.meta import IndexMeta
from index.text.frequency import FOLDER as FREQUENCIES
from index.text.frequency import write_tables

Tables = Callable[[Path, Path | None], None]

_SCHEMA = """
CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT, size INTEGER, mtime REAL, kind TEXT, lang TEXT,
                    n_chunks INTEGER);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, path TEXT, start INTEGER, end INTEGER, line_start INTEGER,
                     line_end INTEGER, page INTEGER, heading TEXT, lang TEXT, text TEXT, terms TEXT);
CREATE INDEX chunks_path ON chunks(path);
"""


def write_generation(root: Path, meta: IndexMeta, docs: Sequence[tuple[Document, int]], chunks: Sequence[Chunk],
                     terms: Sequence[Sequence[str]], vectors: np.ndarray, previous: Path | None = None,
                     tables: Tables | None = None) -> str:
    """Write a complete generation into `root` and make it current; returns its folder's name.
    `previous`, the generation it replaces, lends the tables that do not depend on the documents;
    `tables` writes more files into the new generation's folder (given it and `previous`)."""
    from index.dense import build_dense, save_dense
    from index.lexical import FileIndex, LexicalIndex

    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = root / f"tmp-{name}"
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
        # What the answerer weighs question words by, so that a question never loads wordfreq.
        write_tables(tmp / FREQUENCIES, [*meta.languages, "en"], previous / FREQUENCIES if previous else None)
        if tables is not None:
            tables(tmp, previous)
        (tmp / "meta.json").write_text(json.dumps(asdict(meta), indent=2, ensure_ascii=False))
        write_manifest(tmp)
        fsync_tree(tmp)
        os.rename(tmp, root / name)
        pointer = root / "CURRENT.tmp"
        with open(pointer, "w") as fh:
            fh.write(name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, root / "CURRENT")
        fsync_dir(root)
    except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
        # FAISS reports a failed write as RuntimeError, SQLite as "disk I/O error" or "disk is full".
        shutil.rmtree(tmp, ignore_errors=True)
        if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "disk" in str(exc) \
                or "write" in str(exc).lower():
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise IndexWriteError(f"could not write the new index ({reason}); the previous index is still in use "
                                  "and the partial files were removed") from exc
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name
