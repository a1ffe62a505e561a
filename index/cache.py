"""A journal of embedding work in progress, so that an interrupted build resumes instead of restarting.

    <root>/embeddings.sqlite   vectors keyed by the SHA-256 of the chunk text, for one embedder,
                               and the sources of the run that made them

A build records its sources here before it reads a file (`begin_run`), so that a bot whose first
build was interrupted is known to have one waiting, and with what: no other command builds over it,
and `rag index build` with no paths resumes it. Then it writes each batch of vectors here as the
model produces it, one commit per batch, so a SIGKILL or a power loss loses at most the batch in
progress (a Ctrl-C or SIGTERM not even that: `index.interrupt`), and a re-run embeds only the
chunks it does not find. Once a generation is written its vectors live in it, so the builder
deletes the file: the cache holds the work of one unfinished build, never a second copy of the
index, and a run first drops the rows it does not need (saying so in its report), so killed builds
of changing sources cannot pile up.

It is only a cache, so it can always be thrown away: a file SQLite cannot read is replaced by an
empty one, a row whose checksum fails is embedded again, a cache made by another model (name,
size or probe embedding) is emptied. A disk that refuses writes stops the caching for the run
but keeps what was saved. Each of these leaves one line in `notes` for the build report.
Vectors are raw float32 bytes, never pickles. Callers hold the index's writer lock.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.compat import Space, same_space

CACHE_NAME = "embeddings.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embedder (id INTEGER PRIMARY KEY CHECK (id = 0), model_id TEXT, dim INTEGER,
                                     probe TEXT);
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL, crc INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 0), sources TEXT NOT NULL);
"""
_IN_BATCH = 500  # keys per SELECT ... IN (...), under SQLite's limit on bound parameters


def text_key(text: str) -> bytes:
    """The cache key of a chunk: what the model reads is the text alone, so equal texts share a vector."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def pending_rows(root: Path) -> int:
    """Vectors the cache of `root` holds, as another process sees them: the work an interrupted
    build left for the next run (0 while there is no cache, or for a moment while it is locked)."""
    try:
        db = sqlite3.connect(f"file:{root / CACHE_NAME}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet, schema not written yet, or locked
        return 0


def begin_run(root: Path, sources: Sequence[str]) -> None:
    """Record that a build of `sources` has begun in `root` (callers hold the writer lock).

    A journal that cannot be written is left to `EmbeddingCache`, which replaces a damaged one (and
    records the sources again) or reports a disk that refuses, once embedding begins.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(root / CACHE_NAME)
        try:
            _record(db, sources)
        finally:
            db.close()
    except (sqlite3.DatabaseError, OSError):
        return


def _record(db: sqlite3.Connection, sources: Sequence[str]) -> None:
    db.executescript(_SCHEMA)
    db.execute("INSERT OR REPLACE INTO run VALUES (0, ?)", (json.dumps(list(sources)),))
    db.commit()


def pending_sources(root: Path) -> list[str] | None:
    """The sources of the interrupted (or running) build whose journal is in `root`; None when there
    is no journal, [] when there is one whose sources cannot be read (an older or damaged file)."""
    path = root / CACHE_NAME
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute("SELECT sources FROM run").fetchone()
        finally:
            db.close()
        sources = json.loads(row[0]) if row else []
        return [str(s) for s in sources] if isinstance(sources, list) else []
    except (sqlite3.DatabaseError, ValueError):
        return []


def remove_cache(root: Path) -> None:
    """Delete the cache of `root` with SQLite's side files (a build just wrote its vectors into a generation)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        (root / (CACHE_NAME + suffix)).unlink(missing_ok=True)


class EmbeddingCache:
    def __init__(self, root: Path, space: Space, sources: Sequence[str] | None = None) -> None:
        self.root, self.path = root, root / CACHE_NAME
        self.space, self.sources = space, sources  # sources: recorded again if the file is replaced
        self.notes: list[str] = []
        self._db: sqlite3.Connection | None = None
        self._resets = 0
        self._open()

    def _open(self) -> None:
        try:
            self._db = sqlite3.connect(self.path)
            if self.sources is not None:
                _record(self._db, self.sources)
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT model_id, dim, probe FROM embedder").fetchone()
            if row is None or not same_space(Space(row[0], row[1], tuple(json.loads(row[2]))), self.space):
                # Made by another model (or new): its vectors mean nothing for this one.
                self._db.execute("DELETE FROM vectors")
                self._db.execute("INSERT OR REPLACE INTO embedder VALUES (0, ?, ?, ?)",
                                 (self.space.model_id, self.space.dim, json.dumps(list(self.space.probe))))
                self._db.commit()
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """Stop using a cache that failed: replace a damaged file once, or go on without caching."""
        if self._db is not None:
            self._db.close()
            self._db = None
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, sqlite3.OperationalError) or self._resets:
            # The disk refused (full, read-only, I/O error): keep what was saved for the next run.
            self.notes.append(f"the embedding cache {self.path} could not be used ({reason}); "
                              "this run went on without it, so an interruption would not resume")
            return
        self._resets += 1
        self.notes.append(f"the embedding cache {self.path} was unreadable ({reason}); it was replaced by an "
                          "empty one")
        try:
            remove_cache(self.root)
        except OSError as err:
            self._failed(sqlite3.OperationalError(str(err)))
            return
        self._open()

    def keep_only(self, keys: Iterable[bytes]) -> int:
        """Drop every row whose key is not in `keys` (the work of earlier runs on other sources);
        returns how many went."""
        if self._db is None:
            return 0
        try:
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (key BLOB PRIMARY KEY) WITHOUT ROWID")
            self._db.execute("DELETE FROM wanted")
            self._db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((k,) for k in keys))
            dropped = self._db.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM wanted)").rowcount
            self._db.execute("DELETE FROM wanted")
            self._db.commit()
            return max(dropped, 0)
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            return 0

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors of those `keys` that have one; a row that fails its checksum is left out."""
        found: dict[bytes, np.ndarray] = {}
        bad = 0
        if self._db is None:
            return found
        try:
            for i in range(0, len(keys), _IN_BATCH):
                batch = keys[i:i + _IN_BATCH]
                rows = self._db.execute(f"SELECT key, vector, crc FROM vectors WHERE key IN "
                                        f"({','.join('?' * len(batch))})", batch).fetchall()
                for key, blob, crc in rows:
                    if len(blob) != self.space.dim * 4 or zlib.crc32(blob) != crc:
                        bad += 1
                        continue
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            return {}
        if bad:
            self.notes.append(f"{bad} cached vector(s) in {self.path} were damaged and were embedded again")
        return found

    def put(self, pairs: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Save vectors and commit, so that they outlive a kill of this process."""
        if self._db is None:
            return
        rows = []
        for key, vector in pairs:
            blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
            rows.append((key, blob, zlib.crc32(blob)))
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
