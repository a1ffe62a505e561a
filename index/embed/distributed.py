"""Embedding on a Ray cluster: `RayEmbedder`, which the builder uses like the local embedder.

It carries the local model's identity (model id, dimension, word pieces, probe embedding), so an
index built on Ray is the one a local build writes and is searched with the local model; queries
and the probe are embedded here. Only a build's batches go to the cluster (`embed_batches`, the
seam `index.embed.base.embed_batches` looks for): the builder reads, chunks and writes on this
machine as always, and saves each batch to its resume cache as it arrives, in whatever order the
workers finish. So the documents need to be visible here only; the workers see chunk texts.
Reading and chunking stay here because they are a few percent of a local build (BENCHMARKS.md).

Ray itself runs in a child process (`index.embed.ray_driver`, which says why). Nothing here
imports Ray: `pip install 'rag[ray]'` is needed only when a build asks for it.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np

from index import errors
from index.compat import Space
from index.embed import Embedder, make_embedder
from index.embed.base import DEFAULT_MODEL, Batches, Progress, fingerprint
from index.embed.ray_driver import TEXTS_PER_MESSAGE, Job, serve
from index.embed.transformer import SentenceTransformerEmbedder
from index.errors import ClusterError, ConfigError, Fix, ModelError, RagError

ADDRESS = re.compile(r"^(ray://)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$")  # ray:// only to refuse it clearly


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide a build on Ray runs."""

    address: str = ""  # "", "auto": RAY_ADDRESS if set, else a Ray runtime started here; "local": always here
    workers: int = 0  # actors in the pool; 0: as many as the cluster's CPUs (or GPUs) hold
    cpus: float = 1.0  # per actor (its torch threads)
    gpus: float = 0.0  # per actor; > 0 embeds on CUDA
    batch_size: int = 0  # texts per batch, each one task and one cache commit; 0: the builder's batch
    runtime_env: Mapping[str, Any] = field(default_factory=dict)  # Ray's runtime_env (pip, py_modules, env_vars)
    object_store_mb: int = 200  # the object store of a runtime started here (this machine is shared)
    connect_timeout: float = 120.0  # seconds to connect, or to start a runtime here
    retries: int = 3  # restarts of a lost worker, and retries of its batch, before the build fails


def recipe(backend: str, model: str = "", gpus: float = 0.0) -> Callable[[], Embedder]:
    """How a worker makes the embedder the settings name (pickled to it: a partial of an importable class)."""
    if backend == "sentence-transformers":
        return partial(SentenceTransformerEmbedder, model or DEFAULT_MODEL, "cuda" if gpus else "cpu")
    return partial(make_embedder, backend, model)


def check_address(address: str) -> None:
    """Fail at once, in one line, on an address that is malformed or where nothing listens."""
    if address in ("", "auto", "local"):
        return
    match = ADDRESS.match(address)
    if match is None:
        raise ConfigError(f"{address!r} is not a Ray address: give HOST:PORT (the head's GCS, usually 6379), "
                          "auto or local")
    if match.group(1):  # Ray 2.60's streaming executor needs a core worker, which a Ray Client has not
        raise ConfigError(f"{address}: Ray Data jobs cannot run through Ray Client; give the head's HOST:PORT "
                          "(usually 6379) from a machine in the cluster's network, or run the build there "
                          "with ray job submit")
    host, port = match.group(2).strip("[]"), int(match.group(3))
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}", Fix.CLUSTER) from exc


class RayEmbedder:
    """The local embedder's identity; a build's batches embedded by a pool of Ray actors."""

    def __init__(self, local: Embedder, make: Callable[[], Embedder], options: RayOptions, log: Path) -> None:
        if importlib.util.find_spec("ray") is None:
            raise ClusterError("Ray is not installed", Fix.INSTALL_RAY)
        check_address(options.address)  # before a single file is read
        self.local, self.make, self.options, self.log = local, make, options, log
        self.model_id, self.max_tokens = local.model_id, local.max_tokens
        # the last job: its pool's size, the cluster's CPUs and GPUs, seconds to connect and to shut down
        self.facts: dict[str, Any] = {}

    @property
    def dim(self) -> int:
        return self.local.dim

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """A question or the probe: here, with the local model."""
        return self.local.embed(texts, progress)

    def embed_batches(self, todo: Sequence[tuple[bytes, str]], size: int, progress: Progress | None) -> Batches:
        if not todo:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("", encoding="utf-8")
        o = self.options
        job = Job(address=o.address, workers=o.workers, cpus=o.cpus, gpus=o.gpus, batch_size=o.batch_size or size,
                  retries=o.retries, object_store_mb=o.object_store_mb, recipe=self.make,
                  space=Space.of(self.local, fingerprint(self.local)), log=str(self.log), runtime_env=o.runtime_env)
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked locks or threads
        conn, child_end = context.Pipe()
        driver = context.Process(target=serve, args=(child_end, job), name="rag-ray-driver", daemon=True)
        began = time.perf_counter()
        driver.start()
        child_end.close()
        ended = False  # the driver said its last word ("done" or "error"): it shuts Ray down and exits
        try:
            message = self._receive(conn, driver, time.monotonic() + o.connect_timeout)
            ended = message[0] == "error"
            if message[0] != "ready":
                raise self._error(*message[1:])
            self.facts = {**message[1], "connect_s": round(time.perf_counter() - began, 2)}
            for i in range(0, len(todo), TEXTS_PER_MESSAGE):
                conn.send(("texts", [text for _, text in todo[i:i + TEXTS_PER_MESSAGE]]))
            conn.send(("end",))
            received = 0
            while (message := self._receive(conn, driver))[0] == "batch":
                rows, vectors = message[1], message[2]
                if vectors.shape != (len(rows), self.dim):
                    raise ModelError(f"the Ray workers made vectors of shape {vectors.shape[1:]}, not ({self.dim},)")
                received += len(rows)
                if progress:
                    progress(len(rows))
                yield [todo[row][0] for row in rows], vectors
            ended = True
            if message[0] != "done":
                raise self._error(*message[1:])
            if received < len(todo):
                raise ClusterError(f"the Ray job returned {received} of {len(todo)} vectors (Ray's log: {self.log})")
        finally:
            conn.close()
            stopping = time.perf_counter()
            _stop(driver, ended)
            self.facts["shutdown_s"] = round(time.perf_counter() - stopping, 2)

    def _receive(self, conn: Connection, driver: BaseProcess, deadline: float | None = None) -> tuple[Any, ...]:
        """The driver's next message; an error if it died without one or did not connect in time."""
        while not conn.poll(0.5):
            if not driver.is_alive() and not conn.poll(0):
                raise ClusterError(f"the Ray driver process ended (exit code {driver.exitcode}); the vectors made "
                                   f"so far are saved (Ray's log: {self.log})")
            if deadline is not None and time.monotonic() > deadline:
                raise ClusterError(f"no answer from the Ray cluster at {self.options.address or 'auto'} in "
                                   f"{self.options.connect_timeout:g} s (Ray's log: {self.log})", Fix.CLUSTER)
        try:
            message: tuple[Any, ...] = conn.recv()
        except EOFError as exc:
            raise ClusterError(f"the Ray driver process ended (exit code {driver.exitcode}); the vectors made so "
                               f"far are saved (Ray's log: {self.log})") from exc
        return message

    def _error(self, kind: str, message: str = "") -> RagError:
        """The driver's report of a failure, as the domain error a user is shown."""
        saved = f"; the vectors made so far are saved (Ray's log: {self.log})"
        if kind == "install":
            return ClusterError(message, Fix.INSTALL_RAY)
        if kind == "unreachable":
            return ClusterError(f"{message} (Ray's log: {self.log})", Fix.CLUSTER)
        if kind == "unfit":
            return ConfigError(message)
        if kind.startswith("rag:"):  # a domain error raised on a worker (the model missing there, another model)
            made = getattr(errors, kind[4:], None)
            return made(message) if isinstance(made, type) and issubclass(made, RagError) else ModelError(message)
        if kind == "setup":
            return ClusterError(f"{message} (Ray's log: {self.log})", Fix.WORKER_ENV)
        if kind == "oom":
            return ClusterError(message + saved, Fix.SMALLER_BATCHES)
        return ClusterError(message + saved, Fix.RESUME)


def _stop(driver: BaseProcess, ended: bool) -> None:
    """Let a driver that ended its job shut Ray down; interrupt one that did not (it shuts Ray down then)."""
    driver.join(60 if ended else 0)
    if driver.is_alive() and driver.pid is not None:
        os.kill(driver.pid, signal.SIGINT)
        driver.join(60)
    if driver.is_alive():
        driver.terminate()
        driver.join(10)
    if driver.is_alive():
        driver.kill()
        driver.join()
