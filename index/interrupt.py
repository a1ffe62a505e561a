"""Ctrl-C and SIGTERM during embedding: finish and save the batch in progress, then stop.

A batch of the real model takes 5 s on two idle cores and 30 s or more on busy ones; a Ctrl-C that
raised at once threw that work away, and one pressed before the first batch was saved left the
resume journal empty. So while a build embeds, the first SIGINT or SIGTERM is only noted (and
the user told); the builder stops with `BuildInterrupted` once the batch in progress is saved.
A second signal stops at once, losing that batch, as a SIGKILL would. Signal handlers can only
be set in the main thread: a build running in a worker thread (the chat) is stopped by its own
means and keeps the default behaviour here.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from index.errors import RagError

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as a shell reports it


class BuildInterrupted(RagError):
    """A build stopped by a signal after saving what it had embedded; running it again resumes it."""

    exit_code = 130


class FinishBatch:
    """A context in which SIGINT and SIGTERM set `signum` instead of stopping the process (once)."""

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self.notify = notify
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> FinishBatch:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._noted) for s in EXIT_CODES}
        return self

    def _noted(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # asked twice: stop now
            self._restore()
            raise KeyboardInterrupt
        self.signum = signum
        if self.notify is not None:
            self.notify("stopping once the batch being embedded is saved, so that its work is kept "
                        "(press Ctrl-C again to stop at once and lose it)")

    def check(self, saved: int) -> None:
        """Raise BuildInterrupted if a signal came; `saved`: vectors the journal holds for the next run."""
        if self.signum is not None:
            error = BuildInterrupted(f"interrupted; the {saved} vectors embedded so far are saved and the "
                                     "current index is unchanged: run the same command again to resume")
            error.exit_code = EXIT_CODES.get(signal.Signals(self.signum), 130)
            raise error

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._restore()
