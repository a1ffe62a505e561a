"""Chunk-level vector reuse and resumable builds: what is embedded again, and what is not.

Each test counts the texts the model embeds and checks that the index equals a fresh build, so
that reuse can never trade correctness for speed. The last test does it all with the real model
and the real `rag` command, killed with SIGKILL mid-build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.builder import CACHE_BATCH, Builder
from index.cache import CACHE_NAME, pending_rows
from index.embed import HashEmbedder, Progress
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from tests.conftest import DATA, ROOT

SETTINGS = ChunkSettings(size=40, overlap=8)
SLOW_CHILD = """
import sys, time
from pathlib import Path
from index.builder import Builder
from index.text.chunking import ChunkSettings
from index.embed import HashEmbedder
from index.store import IndexStore


class Slow(HashEmbedder):  # a model's pace, so that the kill lands while batches are being embedded
    def embed(self, texts, progress=None):
        if len(texts) > 1:
            time.sleep(2.0)
        return super().embed(texts, progress)


Builder(IndexStore(Path(sys.argv[1])), Slow(), ChunkSettings(size=40, overlap=8)).build([sys.argv[2]])
"""


def corpus(root: Path, files: int = 16, paragraphs: int = 40, tag: str = "") -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(files):
        body = "\n\n".join(f"Paragrafo {j} del documento {i}{tag}: il treno {i * 100 + j} parte dal binario {j}."
                           for j in range(paragraphs))
        out.append(root / f"doc{i:02}.md")
        out[-1].write_text(f"# Documento {i}\n\n{body}\n", encoding="utf-8")
    return out


def snapshot(root: Path) -> tuple[list[tuple[str, str, int, int]], np.ndarray]:
    generation = IndexStore(root).open()
    chunks = generation.chunks(list(range(generation.meta.n_chunks)))
    return [(Path(c.path).name, c.text, c.start, c.end) for c in chunks], np.array(generation.vectors())


def assert_same_index(root: Path, fresh: Path, atol: float = 0.0) -> None:
    chunks, vectors = snapshot(root)
    fresh_chunks, fresh_vectors = snapshot(fresh)
    assert chunks == fresh_chunks
    if atol:
        assert np.allclose(vectors, fresh_vectors, atol=atol)
    else:
        assert (vectors == fresh_vectors).all()


def kill_once_a_batch_is_cached(proc: subprocess.Popen[str], root: Path, timeout: float) -> int:
    """SIGKILL a building process as soon as its cache holds a batch; the rows it left behind."""
    deadline = time.monotonic() + timeout
    while pending_rows(root) < CACHE_BATCH and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()}"  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return pending_rows(root)


def build(root: Path, docs: Path, embedder: HashEmbedder | None = None):  # type: ignore[no-untyped-def]
    return Builder(IndexStore(root), embedder or HashEmbedder(), SETTINGS).build([str(docs)])


class Interrupting(HashEmbedder):
    """Pressed Ctrl-C after `batches` batches of texts."""

    def __init__(self, batches: int, model: str = "hash-64") -> None:
        super().__init__(model)
        self.batches = batches

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if len(texts) > 1:  # not the one-sentence probe
            if self.batches == 0:
                raise KeyboardInterrupt
            self.batches -= 1
        return super().embed(texts, progress)


def test_appending_a_paragraph_embeds_only_the_chunks_it_changed(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    embedder = HashEmbedder()
    first = build(tmp_path / "idx", tmp_path / "docs", embedder)
    assert first.chunks_embedded == first.chunks == embedder.calls - 1 and first.chunks_reused == 0
    old_texts = {text for _, text, _, _ in snapshot(tmp_path / "idx")[0]}
    with open(docs[5], "a", encoding="utf-8") as fh:
        fh.write("\nUna riga aggiunta in fondo al paragrafo.\n\nE un paragrafo nuovo sui treni a vapore.\n")
    embedder.calls = 0
    report = Builder(IndexStore(tmp_path / "idx"), embedder, SETTINGS).update()
    chunks, _ = snapshot(tmp_path / "idx")
    new_texts = {text for _, text, _, _ in chunks} - old_texts
    # the file's unchanged chunks keep their vectors; only chunks with new text reach the model
    assert 1 <= len(new_texts) <= 3, new_texts
    assert report.chunks_embedded == embedder.calls - 1 == len(new_texts)
    assert report.chunks_reused == report.chunks - len(new_texts) and report.files_reused == 15
    assert not (tmp_path / "idx" / CACHE_NAME).exists(), "the cache goes once its vectors are in the index"
    build(tmp_path / "fresh", tmp_path / "docs")
    assert_same_index(tmp_path / "idx", tmp_path / "fresh")


def test_rebuilds_and_moved_files_reuse_vectors_another_model_does_not(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs", files=4)
    first = build(tmp_path / "idx", tmp_path / "docs")
    again = build(tmp_path / "idx", tmp_path / "docs")
    assert again.chunks_embedded == 0 and again.chunks_reused == first.chunks
    docs[0].rename(tmp_path / "docs" / "renamed.md")
    moved = Builder(IndexStore(tmp_path / "idx"), HashEmbedder(), SETTINGS).update()
    assert moved.chunks_embedded == 0 and moved.files_removed == 1

    class Impostor(HashEmbedder):  # same name and size, other vectors: caught by the probe
        def embed(self, texts, progress=None):  # type: ignore[no-untyped-def, override]
            return -super().embed(texts, progress)

    for other in (HashEmbedder(model="hash-other"), Impostor()):
        report = build(tmp_path / "idx", tmp_path / "docs", other)
        assert report.chunks_embedded == report.chunks == first.chunks, type(other)
    build(tmp_path / "fresh", tmp_path / "docs", Impostor())
    assert_same_index(tmp_path / "idx", tmp_path / "fresh")


def test_ctrl_c_keeps_finished_batches_for_the_same_model_only(tmp_path: Path) -> None:
    corpus(tmp_path / "docs")
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "idx", tmp_path / "docs", Interrupting(batches=2))
    assert pending_rows(tmp_path / "idx") == 2 * CACHE_BATCH
    assert not IndexStore(tmp_path / "idx").exists()
    # another model cannot use those vectors; it empties the cache and fills it with its own
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "idx", tmp_path / "docs", Interrupting(batches=1, model="hash-other"))
    assert pending_rows(tmp_path / "idx") == CACHE_BATCH
    embedder = HashEmbedder(model="hash-other")
    report = build(tmp_path / "idx", tmp_path / "docs", embedder)
    assert report.chunks_resumed == CACHE_BATCH and report.chunks_embedded == report.chunks - CACHE_BATCH
    assert embedder.calls - 1 == report.chunks_embedded
    build(tmp_path / "fresh", tmp_path / "docs", HashEmbedder(model="hash-other"))
    assert_same_index(tmp_path / "idx", tmp_path / "fresh")


def test_the_cache_holds_only_the_latest_runs_work(tmp_path: Path) -> None:
    corpus(tmp_path / "a", tag="A")
    corpus(tmp_path / "b", tag="B")
    for docs in ("a", "b", "a", "b"):
        with pytest.raises(KeyboardInterrupt):
            build(tmp_path / "idx", tmp_path / docs, Interrupting(batches=2))
        # rows from the other corpus's run were dropped, not piled up
        assert pending_rows(tmp_path / "idx") == 2 * CACHE_BATCH


@pytest.mark.slow  # a build process, killed
def test_sigkill_mid_embedding_then_the_same_build_resumes(tmp_path: Path) -> None:
    corpus(tmp_path / "docs")
    root = tmp_path / "idx"
    child = subprocess.Popen([sys.executable, "-c", SLOW_CHILD, str(root), str(tmp_path / "docs")], cwd=ROOT,
                             stderr=subprocess.PIPE, text=True)
    saved = kill_once_a_batch_is_cached(child, root, timeout=300)
    assert saved >= CACHE_BATCH and saved % CACHE_BATCH == 0, "a kill loses at most the batch in progress"
    (root / "tmp-gen-left-by-a-crash").mkdir()  # leftovers of killed writes still go
    embedder = HashEmbedder()
    report = build(root, tmp_path / "docs", embedder)
    assert report.chunks_resumed == saved and report.chunks_embedded == report.chunks - saved
    assert embedder.calls - 1 == report.chunks_embedded < report.chunks
    assert not (root / "tmp-gen-left-by-a-crash").exists() and not (root / CACHE_NAME).exists()
    build(tmp_path / "fresh", tmp_path / "docs")
    assert_same_index(root, tmp_path / "fresh")


@pytest.mark.parametrize("damage", ["garbage", "row"])
def test_a_damaged_cache_never_breaks_a_build(tmp_path: Path, damage: str) -> None:
    corpus(tmp_path / "docs")
    root = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        build(root, tmp_path / "docs", Interrupting(batches=2))
    if damage == "garbage":
        (root / CACHE_NAME).write_bytes(os.urandom(3000) + b"not a database")
    else:  # one vector's bytes changed behind SQLite's back: its checksum no longer matches
        db = sqlite3.connect(root / CACHE_NAME)
        key, blob = db.execute("SELECT key, vector FROM vectors LIMIT 1").fetchone()
        db.execute("UPDATE vectors SET vector = ? WHERE key = ?", (bytes(len(blob)), key))
        db.commit()
        db.close()
    embedder = HashEmbedder()
    report = build(root, tmp_path / "docs", embedder)
    assert embedder.calls - 1 == report.chunks_embedded
    if damage == "garbage":
        assert report.chunks_resumed == 0 and "unreadable" in report.notes[0] and len(report.notes) == 1
    else:
        assert report.chunks_resumed == 2 * CACHE_BATCH - 1 and "damaged" in report.notes[0]
    build(tmp_path / "fresh", tmp_path / "docs")
    assert_same_index(root, tmp_path / "fresh")


SQUAD = DATA / "squad_it"


def test_real_model_sigkilled_build_resumes_and_append_reembeds_a_chunk(  # type: ignore[no-untyped-def]
        real_embedder, tmp_path: Path) -> None:
    docs, home = tmp_path / "docs", tmp_path / "home"
    docs.mkdir()
    for name in ("Cloroplasto.txt", "Programma_Apollo.txt"):  # about 170 chunks: one batch, then a kill
        shutil.copy(SQUAD / name, docs / name)
    root = home / "indexes" / "default"
    env = {**os.environ, "RAG_HOME": str(home)}
    rag = [sys.executable, "-m", "rag"]
    proc = subprocess.Popen([*rag, "index", "build", str(docs), "-q"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    saved = kill_once_a_batch_is_cached(proc, root, timeout=600)
    assert saved >= CACHE_BATCH

    def run(*args: str) -> str:
        done = subprocess.run([*rag, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        return done.stdout

    report = json.loads(run("index", "build", str(docs), "--json"))
    assert report["chunks_resumed"] == saved and report["chunks_embedded"] == report["chunks"] - saved > 0
    resumed = dict(zip(*snapshot(root), strict=True))

    with open(docs / "Cloroplasto.txt", "a", encoding="utf-8") as fh:
        fh.write("\n\nParagrafo aggiunto per la prova di aggiornamento: i cloroplasti sono verdi.\n")
    out = run("index", "update")
    chunks, vectors = snapshot(root)
    new = [c for c in chunks if c not in resumed]
    assert 1 <= len(new) <= 2, new
    assert f"({len(new)} embedded, {len(chunks) - len(new)} reused, 1 file(s) unchanged" in out, out
    # The updated index equals a fresh build; as it took every other vector from the resumed one,
    # this checks the resumed build too (vectors agree up to the batch's float noise).
    Builder(IndexStore(tmp_path / "fresh"), real_embedder, ChunkSettings()).build([str(docs)])
    assert_same_index(root, tmp_path / "fresh", atol=1e-4)
    assert all((resumed[c] == v).all() for c, v in zip(chunks, vectors, strict=True) if c in resumed)


class Signalling(HashEmbedder):
    """Sends its own process `signum` while embedding batch `at` (a Ctrl-C or a `kill` arriving then)."""

    def __init__(self, signum: int, at: int) -> None:
        super().__init__()
        self.signum, self.at, self.batches = signum, at, 0

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if len(texts) > 1:
            self.batches += 1
            if self.batches == self.at:
                os.kill(os.getpid(), self.signum)
        return super().embed(texts, progress)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_batch_lets_the_batch_finish_and_keeps_it(tmp_path: Path, signum: int) -> None:
    from index.interrupt import BuildInterrupted

    corpus(tmp_path / "docs", files=20)
    told: list[str] = []
    embedder = Signalling(signum, at=3)
    builder = Builder(IndexStore(tmp_path / "idx"), embedder, SETTINGS, on_interrupt=told.append)
    before = signal.getsignal(signum)
    with pytest.raises(BuildInterrupted) as stopped:
        builder.build([str(tmp_path / "docs")])
    assert stopped.value.exit_code == 128 + signum and f"the {3 * CACHE_BATCH} vectors" in str(stopped.value)
    assert pending_rows(tmp_path / "idx") == 3 * CACHE_BATCH, "the batch being embedded was finished and saved"
    assert embedder.batches == 3 and len(told) == 1 and "Ctrl-C again" in told[0]
    assert signal.getsignal(signum) == before and not IndexStore(tmp_path / "idx").exists()
    report = build(tmp_path / "idx", tmp_path / "docs")
    assert report.chunks_resumed == 3 * CACHE_BATCH and report.chunks_embedded == report.chunks - 3 * CACHE_BATCH
    build(tmp_path / "fresh", tmp_path / "docs")
    assert_same_index(tmp_path / "idx", tmp_path / "fresh")


GATED_BUILD = """
import sys, time
from pathlib import Path
from index.embed import HashEmbedder

gate, args = Path(sys.argv[1]), sys.argv[2:]
embed, batches = HashEmbedder.embed, [0]


def held(self, texts, progress=None):  # batch n is embedded once the test creates go-n
    if len(texts) > 1:
        batches[0] += 1
        (gate / f"batch-{batches[0]}").touch()
        while not (gate / f"go-{batches[0]}").exists():
            time.sleep(0.01)
    return embed(self, texts, progress)


HashEmbedder.embed = held
from rag.cli import main
main(["--embedder", "hash", *args])
"""


@pytest.mark.slow  # `rag index build` processes, signalled
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL", "SIGINT twice"])
def test_rag_index_build_signalled_mid_batch_keeps_what_it_computed(tmp_path: Path, how: str) -> None:
    """A build of 4 batches, signalled while its third is being embedded: Ctrl-C and SIGTERM finish
    that batch and keep it (384 vectors), a SIGKILL or a second Ctrl-C lose only it (256); the
    same command then resumes, and the index equals a fresh build."""
    corpus(tmp_path / "docs", files=20)
    home, gate = tmp_path / "home", tmp_path / "gate"
    gate.mkdir()
    root = home / "indexes" / "default"
    args = ["index", "build", str(tmp_path / "docs"), "--chunk-size", "40", "--chunk-overlap", "8"]
    env = {**os.environ, "RAG_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-c", GATED_BUILD, str(gate), *args, "-q"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None

    def reach(marker: str) -> None:
        while not (gate / marker).exists():
            assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.01)

    for n in (1, 2):
        reach(f"batch-{n}")
        (gate / f"go-{n}").touch()
    reach("batch-3")  # batches 1 and 2 are saved, or being saved; the third is in progress
    proc.send_signal(signal.SIGKILL if how == "SIGKILL" else getattr(signal, how.split()[0]))
    if how != "SIGKILL":
        told = proc.stderr.readline()
        assert "stopping once the batch being embedded is saved" in told, told
    if how == "SIGINT twice":
        proc.send_signal(signal.SIGINT)
    (gate / "go-3").touch()
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    kept = pending_rows(root)
    expected = {"SIGINT": (130, 3), "SIGTERM": (143, 3), "SIGKILL": (-9, 2), "SIGINT twice": (130, 2)}[how]
    assert (code, kept) == (expected[0], expected[1] * CACHE_BATCH), (code, kept, err)
    assert not (gate / "batch-4").exists() and not IndexStore(root).exists()
    if how in ("SIGINT", "SIGTERM"):
        assert err.strip() == (f"rag: error: interrupted; the {kept} vectors embedded so far are saved and the "
                               "current index is unchanged: run the same command again to resume"), err
    elif how == "SIGINT twice":
        assert err.strip() == "rag: interrupted", err
    done = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", *args, "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["chunks_resumed"] == kept and report["chunks_embedded"] == report["chunks"] - kept
    build(tmp_path / "fresh", tmp_path / "docs")
    assert_same_index(root, tmp_path / "fresh")
