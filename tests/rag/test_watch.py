"""`rag index watch`: created, modified, deleted and renamed files become updates; a burst becomes a few;
the index's own folder inside a watched one never feeds back; the command prints one line per update."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index.embed import HashEmbedder
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.watch import Watcher, WatchEvent, roots, serve_watch, watch_in_thread
from tests.conftest import ROOT

WAIT = 60  # seconds for one event on a busy 2-core machine; each wait ends as soon as the event comes


def _next(events: queue.Queue[WatchEvent]) -> WatchEvent:
    event = events.get(timeout=WAIT)
    assert event.report is not None, event.error
    return event


def test_changes_become_incremental_updates(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna.\n")
    home = docs / ".rag"  # the bot's home inside the watched folder: its writes must not start updates
    assistant = Assistant(Settings(home=home, embedder="hash"), embedder=HashEmbedder())
    assistant.build([str(docs)])
    events: queue.Queue[WatchEvent] = queue.Queue()
    thread, watcher = watch_in_thread(assistant, events.put)
    try:
        assert watcher.ready.wait(WAIT)
        (docs / "b.md").write_text("# Pisa\n\nLa torre di Pisa pende di quasi quattro gradi.\n")
        first = _next(events)
        assert first.report is not None and first.report.files_indexed == 2 and first.report.chunks_embedded == 1
        assert "updated: 1 file(s), 1 chunks embedded" in first.line()

        for n in range(100):  # a burst: a hundred files copied in
            (docs / f"n{n:03}.txt").write_text(f"Nota numero {n}: il valore è {n * 7}.\n")
        updates = [_next(events)]
        while updates[-1].report is not None and updates[-1].report.files_indexed < 102:
            updates.append(_next(events))
        assert len(updates) <= 3, [u.line() for u in updates]
        assert sum(u.report.chunks_embedded for u in updates if u.report) == 100

        (docs / "b.md").rename(docs / "c.md")  # a rename: same text, so nothing to embed
        renamed = _next(events).report
        assert renamed is not None and renamed.chunks_embedded == 0
        assert {Path(f.path).name for f in assistant.store.open().files()} >= {"a.txt", "c.md"}
        (docs / "a.txt").unlink()
        removed = _next(events).report
        assert removed is not None and removed.files_removed == 1 and removed.files_indexed == 101
        assert events.empty()  # no update came from the index's own writes in docs/.rag
        assert assistant.search("torre Pisa pende", 1)[0].chunk.path.endswith("c.md")
    finally:
        watcher.stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()


def test_a_failed_update_is_one_event_and_the_watching_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna.\n")
    assistant = Assistant(Settings(home=tmp_path / "home", embedder="hash"), embedder=HashEmbedder())
    assistant.build([str(docs)])
    events: queue.Queue[WatchEvent] = queue.Queue()
    thread, watcher = watch_in_thread(assistant, events.put)
    try:
        assert watcher.ready.wait(WAIT)
        (docs / "a.txt").unlink()  # nothing left to index: the update fails, the old index stays
        failed = events.get(timeout=WAIT)
        assert failed.report is None and "nothing to index" in failed.line() and "unchanged" in failed.line()
        assert assistant.store.open().meta.n_files == 1
        (docs / "b.txt").write_text("La torre di Pisa pende.\n")
        assert _next(events).report.files_indexed == 1  # type: ignore[union-attr]
    finally:
        watcher.stop.set()
        thread.join(WAIT)


def test_the_serve_hook_updates_and_the_serving_assistant_uses_it(tmp_path: Path) -> None:
    """`rag serve --watch`: the server's own Assistant answers from each new generation, and says when it
    was built; the watching runs on a second Assistant sharing its embedder."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna.\n")
    serving = Assistant(Settings(home=tmp_path / "home", embedder="hash"), embedder=HashEmbedder())
    serving.build([str(docs)])
    before = (serving.search("faro", 1), serving.generation_changed_at())[1]
    lines: queue.Queue[str] = queue.Queue()
    stop = serve_watch([serving], lines.put)
    try:
        assert lines.get(timeout=60) == f"default: watching {docs}"  # the watches are in place
        (docs / "b.txt").write_text("La torre di Pisa pende di quasi quattro gradi.\n")
        line = lines.get(timeout=60)
        assert line.startswith("default: ") and "updated: 1 file(s)" in line
        assert serving.search("torre Pisa pende", 1)[0].chunk.path.endswith("b.txt")
        assert serving.generation_changed_at() >= before and serving.searcher.generation.meta.n_files == 2
    finally:
        stop()


def test_roots_and_what_is_relevant(tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "one.md").write_text("x")
    assert roots([str(tmp_path / "docs"), str(tmp_path / "docs" / "**" / "*.md"), str(tmp_path / "one.md"),
                  str(tmp_path / "missing")]) == [str(tmp_path / "docs"), str(tmp_path)]
    watcher = Watcher(Assistant(Settings(home=tmp_path / "home", embedder="hash"), embedder=HashEmbedder()),
                      lambda e: None)
    watcher.folders = [str(tmp_path / "docs"), str(tmp_path / ".notes")]
    assert watcher.relevant(str(tmp_path / "docs" / "a.docx"))
    assert watcher.relevant(str(tmp_path / ".notes" / "b.md"))  # a hidden folder given as a source is watched
    assert not watcher.relevant(str(tmp_path / "docs" / "a.tmp"))
    assert not watcher.relevant(str(tmp_path / "docs" / ".git" / "a.md"))
    assert not watcher.relevant(str(tmp_path / "home" / "indexes" / "default" / "x.txt"))


@pytest.mark.slow  # runs `rag index watch` in a process, as a user would
def test_the_command_prints_one_line_per_update_and_stops_on_sigterm(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Il faro di Genova si chiama Lanterna.\n")
    env = {**os.environ, "RAG_HOME": str(tmp_path / "home")}
    rag = [sys.executable, "-m", "rag", "--embedder", "hash"]
    build = subprocess.run([*rag, "index", "build", str(docs), "-q"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    proc = subprocess.Popen([*rag, "index", "watch"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        assert "Watching 1 folder(s) for bot 'default'" in proc.stderr.readline()  # the watches are up
        (docs / "b.txt").write_text("La torre di Pisa pende di quasi quattro gradi.\n")
        line = proc.stdout.readline()
        assert "updated: 1 file(s), 1 chunks embedded" in line and "(index: 2 files" in line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
        assert "Stopped watching." in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    missing = subprocess.run([*rag, "--bot", "nobody", "index", "watch"], env=env, cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert missing.stderr.startswith("rag: error:")
