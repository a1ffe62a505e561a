"""Crash safety, corruption, disk full, one writer at a time: each guarantee tested by breaking it.

These run `rag` as a subprocess with the fast fake embedder (`--embedder hash`), so that many
kills fit in a few seconds each.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.embed import HashEmbedder
from index.errors import IndexCorruptError, IndexMismatchError
from index.lock import IndexBusyError, WriterLock
from index.search import Searcher
from index.store import IndexStore
from tests.conftest import ROOT

KILLS = 50

pytestmark = pytest.mark.slow  # runs `rag` in processes it kills


def _corpus(root: Path, version: int, files: int = 150) -> set[str]:
    """Write a corpus version; returns the set of its file contents' first lines, to recognise it."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        lines = [f"Versione {version} documento {i}: il treno numero {i * 7 + version} parte alle {i % 24}."] * 20
        (root / f"doc{i:03}.txt").write_text("\n\n".join(lines) + "\n")
    return {f"Versione {version}"}


def _rag(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RAG_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "rag", "--embedder", "hash", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _version(home: Path) -> int:
    """Which corpus version the current index holds; fails if it is unreadable or mixed."""
    generation = IndexStore(home / "indexes" / "default").open()
    texts = [c.text for c in generation.chunks(list(range(generation.meta.n_chunks)))]
    versions = {t.split()[1] for t in texts}
    assert len(versions) == 1, f"mixed index: {versions}"
    hits = Searcher(generation, HashEmbedder()).search("treno numero", k=3)
    assert hits, "an index that answers nothing"
    return int(versions.pop())


def test_sigkill_at_random_moments_never_leaves_a_partial_index(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    root = home / "indexes" / "default"
    _corpus(docs, 0)
    # Time one build, noting when it starts writing (a tmp- folder appears): half the kills are
    # aimed at the writing phase, where a kill can do harm, half anywhere in the run.
    began, writing_at = time.perf_counter(), None
    first = _rag(home, "index", "build", str(docs), "-q")
    while first.poll() is None:
        if writing_at is None and root.exists() and any(p.name.startswith("tmp-") for p in root.iterdir()):
            writing_at = time.perf_counter() - began
        time.sleep(0.002)
    assert first.returncode == 0, first.stderr.read()  # type: ignore[union-attr]
    duration = time.perf_counter() - began
    writing_at = writing_at if writing_at is not None else duration * 0.8
    rng = random.Random(1234)
    write_span = max(duration - writing_at, 0.05)
    current, during_write, completed, seen_tmp = 0, 0, 0, set()
    for attempt in range(1, KILLS + 1):
        _corpus(docs, attempt)
        proc = _rag(home, "index", "build", str(docs), "-q")
        if attempt % 2:  # aimed at the writing phase: wait until it starts, then a random moment within it
            while proc.poll() is None and not ({p.name for p in root.iterdir() if p.name.startswith("tmp-")}
                                               - seen_tmp):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, write_span))
        else:  # anywhere in the run
            time.sleep(rng.uniform(0.05, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        if proc.wait() == 0:
            completed += 1
        left = {p.name for p in root.iterdir() if p.name.startswith("tmp-")}
        during_write += bool(left - seen_tmp)  # a killed build left its half-written folder behind
        seen_tmp |= left
        version = _version(home)
        assert version in (current, attempt), (version, current, attempt)
        current = version
    print(f"sigkill: {KILLS} kills, {during_write} mid-write, {completed} after completion")
    # the kills really landed in different phases: some mid-write, some before, some after
    assert during_write >= 3 and current > 0, (during_write, completed)
    finish = _rag(home, "index", "build", str(docs), "-q")
    assert finish.wait() == 0
    assert _version(home) == KILLS
    leftovers = [p.name for p in (home / "indexes" / "default").iterdir() if p.name.startswith("tmp-")]
    assert not leftovers, "a completed build removes what killed builds left behind"


def test_full_disk_keeps_the_previous_index(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, 0, files=20)
    assert _rag(home, "index", "build", str(docs), "-q").wait() == 0
    _corpus(docs, 1, files=400)

    def small_disk() -> None:  # the write past the limit fails with EFBIG instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    env = {**os.environ, "RAG_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "index", "build", str(docs), "-q"],
                          cwd=ROOT, env=env, capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    assert proc.returncode == 8, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "previous index is still in use" in proc.stderr
    assert _version(home) == 0
    assert not [p for p in (home / "indexes" / "default").iterdir() if p.name.startswith("tmp-")]


@pytest.mark.parametrize("damage", ["truncate", "garble", "manifest", "pickle"])
def test_corruption_is_reported_not_swallowed(tmp_path: Path, damage: str) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, 0, files=5)
    assert _rag(home, "index", "build", str(docs), "-q").wait() == 0
    folder = IndexStore(home / "indexes" / "default").current_folder()
    assert folder is not None
    if damage == "truncate":
        vectors = folder / "vectors.npy"
        vectors.write_bytes(vectors.read_bytes()[:-100])
    elif damage == "garble":
        dense = folder / "dense.faiss"
        data = bytearray(dense.read_bytes())
        data[len(data) // 2] ^= 0xFF
        dense.write_bytes(bytes(data))
    elif damage == "manifest":
        (folder / "manifest.json").unlink()
    else:
        (folder / "index.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(IndexCorruptError):
        IndexStore(home / "indexes" / "default").open()
    search = _rag(home, "search", "treno")
    assert search.wait() == 5
    err = search.stderr.read()  # type: ignore[union-attr]
    assert len(err.strip().splitlines()) == 1 and "rag: error:" in err


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, 0, files=5)
    root = home / "indexes" / "default"
    with WriterLock(root):
        with pytest.raises(IndexBusyError, match=f"pid {os.getpid()}"):
            with WriterLock(root):
                pass
        busy = _rag(home, "index", "build", str(docs), "-q")
        assert busy.wait() == 7
        assert "being written by pid" in busy.stderr.read()  # type: ignore[union-attr]
        waiting = _rag(home, "index", "build", str(docs), "-q", "--wait")
        told = waiting.stderr.readline()  # type: ignore[union-attr]
        assert f"waiting for the index: it is being written by pid {os.getpid()}" in told, told
        assert waiting.poll() is None, "a --wait build waits while the lock is held"
    assert waiting.wait(timeout=60) == 0
    assert _version(home) == 0


def test_readers_keep_answering_during_a_rebuild(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, 0)
    assert _rag(home, "index", "build", str(docs), "-q").wait() == 0
    _corpus(docs, 1)
    builder = _rag(home, "index", "build", str(docs), "-q")
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(_version(home))

    reader = threading.Thread(target=read)
    reader.start()
    assert builder.wait(timeout=120) == 0
    stop.set()
    reader.join()
    assert seen <= {0, 1} and 0 in seen


def test_a_different_model_with_the_same_name_and_size_is_refused(tmp_path: Path) -> None:
    class Impostor(HashEmbedder):
        def embed(self, texts, progress=None):  # type: ignore[no-untyped-def, override]
            return -super().embed(texts, progress)

    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, 0, files=3)
    assert _rag(home, "index", "build", str(docs), "-q").wait() == 0
    generation = IndexStore(home / "indexes" / "default").open()
    assert np.allclose(Searcher(generation, HashEmbedder()).embed_query("x"), HashEmbedder().embed(["x"])[0])
    with pytest.raises(IndexMismatchError, match="embeds differently"):
        Searcher(generation, Impostor())
