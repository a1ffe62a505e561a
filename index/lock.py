"""One writer at a time: a kernel file lock around builds and updates of one index.

The lock is `filelock`'s (fcntl on Unix), which the kernel releases when the holding process
dies, even by SIGKILL, so a crashed build never leaves the index locked. Who holds it (pid,
command, start time) is written beside it, so that a second writer can say who to wait for.
Readers never take the lock: they read the current generation, which a writer never modifies.
Removing an index (`rag bot rm`) takes the lock too; a writer that was waiting for it then finds
the folder gone and stops with IndexMissingError instead of writing an index of a removed bot.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from index.errors import IndexBusyError, IndexMissingError


class WriterLock:
    """`wait`: queue behind another writer instead of failing; `on_wait` is told whom it waits for, once."""

    def __init__(self, root: Path, wait: bool = False, on_wait: Callable[[str], None] | None = None,
                 create: bool = True) -> None:
        from filelock import FileLock

        if create:  # a lock only looked at (`busy`) makes no folder
            root.mkdir(parents=True, exist_ok=True)
        self.root, self.wait, self.on_wait = root, wait, on_wait
        self._lock = FileLock(str(root / "writer.lock"), timeout=0)
        self._holder = root / "writer.json"

    def __enter__(self) -> WriterLock:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            if not self.wait:
                raise IndexBusyError(f"the index is being written by {self.holder()}") from None
            if self.on_wait is not None:
                self.on_wait(self.holder())
            try:
                self._lock.acquire(timeout=-1)
            except FileNotFoundError:  # the lock file went with its folder while we waited
                raise IndexMissingError(f"the index {self.root} was removed while this command waited "
                                        "for it") from None
        self._holder.write_text(json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv),
                                            "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._holder.unlink(missing_ok=True)
        self._lock.release()

    def busy(self) -> str | None:
        """Who holds the lock now (another process), or None; takes nothing and writes nothing."""
        from filelock import FileLock, Timeout

        if not (self.root / "writer.lock").exists():
            return None
        probe = FileLock(str(self.root / "writer.lock"), timeout=0)
        try:
            probe.acquire()
        except Timeout:
            return self.holder()
        probe.release()
        return None

    def holder(self) -> str:
        try:
            info = json.loads(self._holder.read_text())
            return f"pid {info['pid']} ({info['command']}, since {info['since']})"
        except (OSError, ValueError, KeyError):
            return "another process"
