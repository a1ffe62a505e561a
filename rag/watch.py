"""Keeping a bot's index in step with its sources: file changes in, incremental updates out.

The watching is watchfiles' (inotify through Rust's notify, no polling of ours). Its debounce turns a
burst of events into one batch: it yields once no new change has come for `STEP_MS`, or after
`DEBOUNCE_MS` of a steady stream, so an editor's save-by-rename, a `git checkout` or a thousand files
copied in become one or a few updates; changes that arrive while an update runs are the next batch.
Each batch runs `Assistant.update()`, which takes the writer lock (waiting behind any other writer),
re-embeds only chunks whose text is new and switches generations atomically: a reader sees the old
index or the new one. What an update did is one `WatchEvent` (a line on the terminal).

Only events that can change the index start an update: supported files outside hidden folders, under
a source, and never the index's own folder (a bot home inside a watched folder would loop). `Assistant.update`
rescans every source (a stat and a hash per file), which is cheap beside embedding: the figures are in
BENCHMARKS.md (bench/watch.py).
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from index.errors import RagError
from index.ingest.sources import SUPPORTED
from rag.assistant import Assistant, BuildReport

DEBOUNCE_MS = 1600  # the longest a steady stream of changes is gathered before an update
STEP_MS = 300  # quiet time that ends a burst (an editor's save is a few events within ~50 ms)


@dataclass(frozen=True)
class WatchEvent:
    """One update the watcher ran (or tried): what changed, what it did, how long it took."""

    changed: int  # paths in the batch of events that started it
    report: BuildReport | None  # None when it failed
    seconds: float
    error: str = ""

    def line(self) -> str:
        """`12:03:04 updated: 3 file(s), 5 chunks embedded, 0.42 s (index: 12 files, 180 chunks)`."""
        stamp = time.strftime("%H:%M:%S")
        if self.report is None:
            return f"{stamp} update failed ({self.changed} change(s)): {self.error}; the index in use is unchanged"
        r = self.report
        files = r.files_indexed - r.files_reused + r.files_removed
        return (f"{stamp} updated: {files} file(s), {r.chunks_embedded} chunks embedded, {self.seconds:.2f} s "
                f"(index: {r.files_indexed} files, {r.chunks} chunks"
                + (f"; {len(r.skipped)} skipped" if r.skipped else "") + ")")


def roots(sources: Iterable[str]) -> list[str]:
    """The folders to watch for `sources` (folders, files, globs): a glob's fixed leading folders."""
    out: list[str] = []
    for source in sources:
        path = os.path.abspath(os.path.expanduser(source))
        if glob.has_magic(path):
            parts = path.split(os.sep)
            fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
            path = os.sep.join(parts[:fixed]) or os.sep
        elif not os.path.isdir(path):
            path = os.path.dirname(path)
        if os.path.isdir(path) and path not in out:
            out.append(path)
    return out


class Watcher:
    """Watches the sources of `assistant`'s index and updates it after each burst of changes.

    `on_event` hears each update; `stop` ends `run` (from another thread, or a signal handler).
    """

    def __init__(self, assistant: Assistant, on_event: Callable[[WatchEvent], None],
                 stop: threading.Event | None = None, debounce_ms: int = DEBOUNCE_MS, step_ms: int = STEP_MS) -> None:
        self.assistant, self.on_event = assistant, on_event
        self.stop = stop or threading.Event()
        self.debounce_ms, self.step_ms = debounce_ms, step_ms
        assistant.wait = True  # queue behind another writer (a build in a terminal) instead of failing
        self.ready = threading.Event()  # set once the watches are in place: changes from then on are seen
        self.folders: list[str] = []  # what `run` watches

    def sources(self) -> list[str]:
        generation = self.assistant.store.open()  # IndexMissingError when the bot has no index yet
        try:
            return list(generation.meta.sources)
        finally:
            generation.close()

    def relevant(self, path: str) -> bool:
        """Whether a change at `path` can change the index: a supported file, not hidden, not the index's."""
        index_root = os.path.abspath(self.assistant.store.root)
        if path == index_root or path.startswith(index_root + os.sep):
            return False
        below = next((os.path.relpath(path, root) for root in self.folders
                      if path.startswith(root.rstrip(os.sep) + os.sep)), path)
        if any(part.startswith(".") for part in below.split(os.sep)):  # hidden below a watched folder, as in discover
            return False
        return os.path.splitext(path)[1].lower() in SUPPORTED

    def run(self, on_ready: Callable[[list[str]], None] | None = None) -> None:
        """Watch until `stop` is set; each batch of relevant changes becomes one update. `on_ready` hears
        the folders watched once the watches are in place (a change from then on is seen)."""
        import watchfiles

        sources = self.sources()
        folders = self.folders = roots(sources)
        if not folders:
            raise_missing(sources)
        changes = watchfiles.watch(*folders, watch_filter=lambda _change, path: self.relevant(path),
                                   debounce=self.debounce_ms, step=self.step_ms, stop_event=self.stop,
                                   rust_timeout=200, yield_on_timeout=True, raise_interrupt=False)
        for batch in changes:
            if not self.ready.is_set():  # the first timeout (or batch): the watches are up
                self.ready.set()
                if on_ready is not None:
                    on_ready(folders)
            if batch and not self.stop.is_set():
                self.on_event(self.update(len(batch)))

    def update(self, changed: int) -> WatchEvent:
        began = time.perf_counter()
        try:
            report = self.assistant.update()
        except RagError as exc:  # e.g. every source deleted: said, and the watching goes on
            return WatchEvent(changed, None, time.perf_counter() - began, str(exc))
        return WatchEvent(changed, report, time.perf_counter() - began)


def raise_missing(sources: list[str]) -> None:
    from index.errors import SourceError

    raise SourceError(f"none of the index's sources is a folder that exists ({' '.join(sources)}); nothing to watch")


def serve_watch(assistants: Iterable[Assistant], say: Callable[[str], None]) -> Callable[[], None]:
    """The hook for `rag serve --watch`: one watcher thread per bot, each on its own `Assistant` (sharing
    the loaded embedding model) so that updating never holds up answering; returns the function that
    stops them. Call it once, in the process that binds the port (not in each worker): workers, threads
    and other processes all open the new generation at their next question (`Assistant.searcher`), and
    `Assistant.generation_changed_at()` says when the one in use was built, for the page to show.
    `say` gets a line once each bot's folders are watched, then one per update, prefixed by the bot's name."""
    stops = []
    for serving in assistants:
        name = serving.settings.bot
        own = Assistant(serving.settings, embedder=serving.embedder, wait=True)
        _, watcher = watch_in_thread(own, partial(_say_update, say, name), on_ready=partial(_say_watching, say, name))
        stops.append(watcher.stop)

    def stop_all() -> None:
        for stop in stops:
            stop.set()

    return stop_all


def _say_update(say: Callable[[str], None], name: str, event: WatchEvent) -> None:
    say(f"{name}: {event.line()}")


def _say_watching(say: Callable[[str], None], name: str, folders: list[str]) -> None:
    say(f"{name}: watching {', '.join(folders)}")


def watch_in_thread(assistant: Assistant, on_event: Callable[[WatchEvent], None],
                    stop: threading.Event | None = None,
                    on_ready: Callable[[list[str]], None] | None = None) -> tuple[threading.Thread, Watcher]:
    """Run a `Watcher` in a daemon thread (for `rag serve --watch`); set `watcher.stop` to end it.

    The server needs nothing else: `Assistant.searcher` opens the new generation at the next question.
    An error that ends the watching (the index deleted under it) is passed to `on_event` as a failed event.
    """
    watcher = Watcher(assistant, on_event, stop)

    def run() -> None:
        try:
            watcher.run(on_ready)
        except RagError as exc:
            on_event(WatchEvent(0, None, 0.0, f"watching stopped: {exc}"))

    thread = threading.Thread(target=run, name="rag-watch", daemon=True)
    thread.start()
    return thread, watcher
