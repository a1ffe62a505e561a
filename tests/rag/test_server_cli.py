"""`rag serve` and `rag bot publish` as a user runs them: processes, signals, a port in use, several
workers picking up a rebuild (slow tier: every test starts processes)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, assert_one_line_error

pytestmark = pytest.mark.slow


@contextmanager
def serving(home: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    """`rag --embedder hash ARGS` (ending with `serve ...`) on a port of its choosing; yields the process,
    its base URL and what it printed up to its "Serving" line."""
    proc = subprocess.Popen([sys.executable, "-m", "rag", "--embedder", "hash", *args, "--port", "0"],
                            cwd=ROOT, env={**os.environ, "RAG_HOME": str(home)}, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    head = ""
    try:
        while "Serving" not in head:  # printed once the socket listens (requests wait in its backlog)
            line = proc.stderr.readline()
            assert line, f"rag serve exited: {head}"
            head += line
        yield proc, head.rsplit(" on ", 1)[1].split("/ ", 1)[0], head
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return err


def test_serve_warns_without_a_key_stops_on_sigterm_and_refuses_a_taken_port(home: Path) -> None:
    with serving(home, "serve", "--host", "127.0.0.2") as (proc, url, head):  # loopback, but not the usual address
        assert "rag: warning: serving on 127.0.0.2 without an API key" in head
        assert httpx.get(f"{url}/health", timeout=10).json()["bots"] == ["default"]
        port = url.rsplit(":", 1)[1]
        taken = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "serve", "--host", "127.0.0.2",
                                "--port", port], cwd=ROOT, env={**os.environ, "RAG_HOME": str(home)},
                               capture_output=True, text=True, timeout=120)
        assert taken.returncode == 2
        assert taken.stderr.strip() == f"rag: error: port {port} on 127.0.0.2 is in use; stop what holds it or " \
                                       "pass --port"
        err = stop(proc)
    assert "Stopped." in err and "Traceback" not in err


QUESTION = {"model": "alpi",
            "messages": [{"role": "user", "content": "A che quota si trova il rifugio Vittorio Emanuele?"}]}


def alpi_bot(home: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A bot `alpi` made with `rag bot new` over one Markdown file that says 2732 metres; its file and the
    environment that reaches its home. QUESTION asks what the file says."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rifugio.md").write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2732 metri.\n")
    env = {**os.environ, "RAG_HOME": str(home)}
    made = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "bot", "new", "alpi", "-s", str(docs),
                           "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return docs / "rifugio.md", env


def test_workers_share_the_port_and_pick_up_a_rebuild(home: Path, tmp_path: Path) -> None:
    note, env = alpi_bot(home, tmp_path)

    def answers(url: str) -> list[str]:  # a connection each: the kernel spreads them over the workers
        return [httpx.post(f"{url}/v1/chat/completions", json=QUESTION, timeout=120)
                .json()["choices"][0]["message"]["content"] for _ in range(6)]

    with serving(home, "--bot", "alpi", "serve", "--workers", "2", "--all") as (proc, url, head):
        assert "2 workers" in head and httpx.get(f"{url}/health", timeout=60).json()["bots"] == ["alpi", "default"]
        assert all("2732" in a for a in answers(url))
        note.write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2735 metri.\n")
        rebuilt = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "--bot", "alpi", "index",
                                  "update"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert all("2735" in a for a in answers(url)), "every worker answers from the new generation"
        assert "Stopped." in stop(proc)


def test_serve_watch_follows_the_sources_and_says_each_update(home: Path, tmp_path: Path) -> None:
    note, _ = alpi_bot(home, tmp_path)

    def answer(url: str) -> str:
        reply = httpx.post(f"{url}/v1/chat/completions", json=QUESTION, timeout=120).json()
        return f"{reply['choices'][0]['message']['content']} {reply['indexed_at']}"

    with serving(home, "--bot", "alpi", "serve", "--watch") as (proc, url, _):
        assert proc.stderr is not None
        lines: queue.Queue[str] = queue.Queue()  # stderr read in a thread: a missing line fails, never hangs
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or ()], daemon=True)
        reader.start()

        def wait_for(word: str) -> str:
            seen = []
            while True:
                try:
                    line = lines.get(timeout=60)
                except queue.Empty:
                    raise AssertionError(f"no line with {word!r} in 60 s; got {seen}") from None
                seen.append(line)
                if word in line:
                    return line

        assert str(note.parent) in wait_for("alpi: watching")
        before = answer(url)
        assert "2732" in before
        note.write_text("# Rifugi\n\nIl rifugio Vittorio Emanuele si trova a 2735 metri.\n")
        line = wait_for("updated")
        assert line.startswith("rag: alpi: ") and "1 file(s)" in line and "chunks embedded" in line
        after = answer(url)
        assert "2735" in after and after.split()[-1] >= before.split()[-1]  # the page's "index updated" moves on
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        reader.join(timeout=30)  # to the end of its stderr
        rest = []
        while not lines.empty():
            rest.append(lines.get())
        assert "Stopped.\n" in rest and not any("Traceback" in line for line in rest)


def test_publish_prints_every_channel(rag) -> None:  # type: ignore[no-untyped-def]
    out = rag("bot", "publish", "default", "--url", "http://bots.example:8000/").out
    assert '<script src="http://bots.example:8000/widget.js" data-bot="default"></script>' in out
    assert "curl http://bots.example:8000/v1/chat/completions" in out
    assert 'OpenAI(base_url="http://bots.example:8000/v1"' in out
    info = rag("bot", "publish", "default", "--json", "--api-key").json()
    assert info["mcp"]["mcpServers"]["rag-default"]["args"] == ["mcp", "--bot", "default"]
    assert "Authorization: Bearer $RAG_SERVE_API_KEY" in info["curl"]
    assert json.dumps(info).count("sk-") == 0
    assert_one_line_error(rag("bot", "publish", "nobody"))
