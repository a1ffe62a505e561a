"""Builds on Ray, for real: a Ray head started here (`ray start --head`, token authentication on) for
most tests, a Ray runtime that `rag index build --ray` starts itself for the real model.

Each build is checked against a local build of the same files: the same chunks in the same order and
the same vectors (the fake's exactly, the real model's within 1e-5), so that scaling out can never
trade correctness. The workers of the fake below note which process embedded how many texts, which
is how the tests find a worker to kill and count what was embedded twice.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from index.builder import Builder
from index.cache import pending_rows
from index.embed import HashEmbedder, Progress
from index.embed.distributed import RayEmbedder, RayOptions
from index.errors import ClusterError, Fix
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from rag.present.fixes import describe
from tests.conftest import DATA, ROOT, SEEDS, assert_one_line_error
from tests.index.test_resume import assert_same_index, corpus, snapshot

pytestmark = pytest.mark.slow  # every test here starts Ray's processes
SETTINGS = ChunkSettings(size=40, overlap=8)
BATCH = 16
RAY = str(Path(sys.executable).parent / "ray")
# The workers import this module (the recipes below name its class): they find it through this.
ENV = {"env_vars": {"PYTHONPATH": str(ROOT)}}


class Noting(HashEmbedder):
    """The fake at a model's pace, appending "<pid> <texts>" to `log` as each batch begins; a batch
    holding `poison` kills its worker, as a segfault or the kernel's OOM killer would."""

    def __init__(self, log: str = "", pause: float = 0.0, poison: str = "") -> None:
        super().__init__()
        self.log, self.pause, self.poison = log, pause, poison

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if len(texts) > 1:  # not the probe
            if self.poison and any(self.poison in t for t in texts):
                os._exit(3)
            if self.log:
                with open(self.log, "a", encoding="utf-8") as fh:
                    fh.write(f"{os.getpid()} {len(texts)}\n")
            time.sleep(self.pause)
        return super().embed(texts, progress)


def noted(log: Path) -> list[tuple[int, int]]:
    """(pid, texts) for each batch a worker began."""
    if not log.exists():
        return []
    return [(int(pid), int(n)) for pid, n in (line.split() for line in log.read_text().splitlines() if line)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster with token authentication, as `ray start --head` makes one; its address.

    The token is this fixture's own, so no test depends on ~/.ray; builds find it in the environment
    (`RAY_AUTH_MODE`, `RAY_AUTH_TOKEN`), as the README tells users to set it.
    """
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path_factory.mktemp("head") / "head.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "0")  # its SIGTERM stops at once (30 s by default)
        env.setenv("RAY_AUTH_MODE", "token")
        env.setenv("RAY_AUTH_TOKEN", token)
        with open(log, "w") as out:
            proc = subprocess.Popen([RAY, "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                                     "--object-store-memory=200000000", "--include-dashboard=false",
                                     "--disable-usage-stats"], stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while "Ray runtime started" not in log.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield f"127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGTERM)  # `ray start --block` stops what it started (`ray stop`: all Ray here)
            proc.wait(timeout=120)


def on_ray(address: str, log: Path, **kwargs: object) -> RayEmbedder:
    recipe = partial(Noting, str(log), kwargs.pop("pause", 0.0), kwargs.pop("poison", ""))  # type: ignore[arg-type]
    options = RayOptions(address=address, batch_size=BATCH, runtime_env=ENV, **kwargs)  # type: ignore[arg-type]
    return RayEmbedder(HashEmbedder(), recipe, options, log.parent / "ray-build.log")


def local_build(root: Path, docs: Path) -> None:
    Builder(IndexStore(root), HashEmbedder(), SETTINGS).build([str(docs)])


def test_a_killed_worker_is_replaced_and_the_index_is_the_local_one(head: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    corpus(docs, files=16)
    root, log = tmp_path / "ray", tmp_path / "workers.log"
    embedder = on_ray(head, log, pause=0.3, workers=2)
    killed: list[int] = []

    def kill_a_worker_once_a_batch_is_saved() -> None:
        deadline = time.monotonic() + 120
        while (pending_rows(root) < BATCH or not noted(log)) and time.monotonic() < deadline:
            time.sleep(0.01)
        killed.append(noted(log)[-1][0])  # the worker that began the latest batch: it is embedding now
        os.kill(killed[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker_once_a_batch_is_saved)
    killer.start()
    report = Builder(IndexStore(root), embedder, SETTINGS).build([str(docs)])
    killer.join()
    local_build(tmp_path / "local", docs)
    assert_same_index(root, tmp_path / "local")
    assert report.chunks_embedded == report.chunks == 320 and embedder.facts["workers"] == 2
    batches = noted(log)
    pids = {pid for pid, _ in batches}
    assert killed[0] in pids and len(pids) >= 3, "the killed worker's actor was restarted in a new process"
    embedded = sum(n for _, n in batches)
    # Only the batch the killed worker was embedding was embedded twice.
    assert report.chunks <= embedded <= report.chunks + BATCH


CRASHING = """
import sys
from functools import partial
from pathlib import Path
from index.builder import Builder
from index.embed import HashEmbedder
from index.embed.distributed import RayEmbedder, RayOptions
from index.store import IndexStore
from index.text.chunking import ChunkSettings
from tests.index.test_ray import BATCH, ENV, Noting

root, docs, address = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
embedder = RayEmbedder(HashEmbedder(), partial(Noting, "", 0.3),
                       RayOptions(address=address, batch_size=BATCH, runtime_env=ENV), root / "ray-build.log")
Builder(IndexStore(root), embedder, ChunkSettings(size=40, overlap=8)).build([docs])
"""


def test_after_a_crash_and_a_lost_worker_the_build_resumes_embedding_only_what_is_missing(
        head: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    corpus(docs, files=8)
    (docs / "zz.md").write_text("# Veleno\n\n" + "Questo paragrafo avvelena il worker. " * 8, encoding="utf-8")
    root, log = tmp_path / "ray", tmp_path / "workers.log"
    # 1. The building process is SIGKILLed once a batch is saved.
    proc = subprocess.Popen([sys.executable, "-c", CRASHING, str(root), str(docs), head], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while pending_rows(root) < BATCH and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()}"  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    crashed = pending_rows(root)
    # 2. Run again: a batch kills its worker, and kills it again once restarted: one line, exit code 9.
    with pytest.raises(ClusterError) as failed:
        Builder(IndexStore(root), on_ray(head, log, poison="avvelena", workers=1, retries=1),
                SETTINGS).build([str(docs)])
    error = failed.value
    assert error.fix is Fix.RESUME and error.exit_code == 9 and "\n" not in describe(error)
    assert "a Ray worker died while embedding, and again each of the 1 times it was restarted" in str(error)
    assert not IndexStore(root).exists(), "nothing was written"
    lost = pending_rows(root)
    assert BATCH <= crashed < lost, "each run kept what it embedded"
    # 3. Without the poison, the build completes, embedding only the vectors not yet saved.
    (docs / "zz.md").unlink()
    log.unlink()
    report = Builder(IndexStore(root), on_ray(head, log), SETTINGS).build([str(docs)])
    assert (report.chunks_resumed, report.chunks_embedded) == (lost, report.chunks - lost)
    assert sum(n for _, n in noted(log)) == report.chunks - lost, "only the missing vectors were embedded"
    local_build(tmp_path / "local", docs)
    assert_same_index(root, tmp_path / "local")


def test_rag_index_build_on_a_cluster_and_its_errors(head: str, rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    corpus(docs, files=4)
    env = {"RAG_EMBEDDER": "hash"}
    built = rag("index", "build", str(docs), "--chunk-size", "40", "--chunk-overlap", "8", "--json",
                "--ray", head, "--ray-workers", "1", "--ray-batch-size", "32", env=env)
    assert built.code == 0, built.err
    assert built.json()["chunks_embedded"] == built.json()["chunks"] == 80
    assert built.err == "", "Ray's own output stays in its log"
    home = Path(os.environ["RAG_HOME"])
    local_build(tmp_path / "local", docs)
    assert_same_index(home / "indexes" / "default", tmp_path / "local")
    refused = rag("index", "build", str(docs), f"--ray=127.0.0.1:{free_port()}", env=env)
    assert_one_line_error(refused)
    assert refused.code == 9 and "cannot reach the Ray cluster" in refused.err
    mistaken = rag("index", "build", "--ray", str(docs), env=env)
    assert_one_line_error(mistaken)
    assert "put PATHS before --ray" in mistaken.err
    client = rag("index", "build", str(docs), "--ray=ray://127.0.0.1:10001", env=env)
    assert_one_line_error(client)
    assert client.code == 2 and "cannot run through Ray Client" in client.err
    light = subprocess.run([sys.executable, "-c", "import sys, rag.cli, rag.assistant, index.embed.distributed; "
                            "print('ray' in sys.modules)"], capture_output=True, text=True, cwd=ROOT)
    assert light.stdout.strip() == "False", "Ray is imported only by a build that asks for it"


def test_real_model_on_a_ray_runtime_started_here_builds_the_local_index(  # type: ignore[no-untyped-def]
        rag, seed_assistant, real_embedder) -> None:
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    built = rag("index", "build", str(SEEDS), "--ray", "--ray-workers", "1", "--json")
    assert built.code == 0, built.err
    assert built.err == "", "Ray's own output stays in its log"
    ray_home = Path(os.environ["RAG_HOME"])
    chunks, vectors = snapshot(ray_home / "indexes" / "default")
    local_chunks, local_vectors = snapshot(seed_assistant.store.root)
    assert chunks == local_chunks and len(chunks) == built.json()["chunks_embedded"]
    assert np.abs(vectors - local_vectors).max() < 1e-5
    on_ray = Assistant(Settings(home=ray_home), embedder=real_embedder)
    questions = [json.loads(line)["question"] for line in (DATA / "seed_dev.jsonl").read_text().splitlines()[:4]]
    for question in questions:
        ours, theirs = on_ray.ask(question), seed_assistant.ask(question)
        assert (ours.text, [c.hit.chunk.key for c in ours.citations]) == \
            (theirs.text, [c.hit.chunk.key for c in theirs.citations])


def test_how_each_failure_of_a_job_is_told(tmp_path: Path) -> None:
    """Out of memory cannot be caused here for real (Ray's monitor acts at 95% of the node's memory), so
    its classification is checked on Ray's own exception objects, and what a user is then shown."""
    import ray.exceptions as rx

    from index.embed.ray_driver import classify

    oom = classify(rx.OutOfMemoryError("Task was killed due to the node running low on memory."), 3)
    assert oom == ("oom", "a Ray worker ran out of memory while embedding")
    assert classify(rx.ObjectStoreFullError("object store full"), 3)[0] == "oom"
    assert classify(rx.ActorDiedError(), 0) == ("died", "a Ray worker died while embedding")
    remote = RuntimeError("Traceback (most recent call last):\nindex.errors.ModelError: cannot load the model: gone")
    assert classify(remote, 3) == ("rag:ModelError", "cannot load the model: gone")
    shown = on_ray("", tmp_path / "workers.log")._error(*oom)
    assert isinstance(shown, ClusterError) and shown.fix is Fix.SMALLER_BATCHES and shown.exit_code == 9
    assert describe(shown).endswith("run it again with a smaller --ray-batch-size, or fewer --ray-workers per machine")
