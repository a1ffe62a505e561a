"""One writer at a time: a kernel file lock around builds and updates of one index.

The lock is `filelock`'s (fcntl on Unix), which the kernel releases when the holding process
dies, even by SIGKILL, so a crashed build never leaves the index locked. Who holds it (pid,
command, start time) is written beside it, so that a second writer can say who to wait for.
Readers never take the lock: they read the current generation, which a writer never modifies.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from index.errors import RagError


class IndexBusyError(RagError):
    """Another process is building or updating this index."""

    exit_code = 7


class WriterLock:
    def __init__(self, root: Path, wait: bool = False) -> None:
        from filelock import FileLock

        root.mkdir(parents=True, exist_ok=True)
        self.root, self.wait = root, wait
        self._lock = FileLock(str(root / "writer.lock"), timeout=-1 if wait else 0)
        self._holder = root / "writer.json"

    def __enter__(self) -> WriterLock:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise IndexBusyError(f"the index is being written by {self.holder()}; try again when it is done, "
                                 "or pass --wait to wait for it") from None
        self._holder.write_text(json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv),
                                            "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._holder.unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> str:
        try:
            info = json.loads(self._holder.read_text())
            return f"pid {info['pid']} ({info['command']}, since {info['since']})"
        except (OSError, ValueError, KeyError):
            return "another process"
