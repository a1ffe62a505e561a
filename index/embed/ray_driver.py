"""The Ray side of a distributed build: a process of its own that drives one Ray Data job.

`index.embed.distributed` starts `serve` in a child process and talks to it over a pipe:

    child -> parent   ("ready", facts)       connected; the pool's size and the cluster's resources
    parent -> child   ("texts", [str, ...])  the texts to embed, in pieces; then ("end",)
    child -> parent   ("batch", rows, vectors), ...   each batch as a worker finishes it
    child -> parent   ("done",) | ("error", kind, message)

Ray runs in this child, not in the process that writes the index, because a Ray driver prints
(its error listener writes worker deaths and retries to stdout, its C++ core logs to stderr), keeps
threads and sets signal handlers: here its output goes to a log file, a terminal's Ctrl-C does not
reach it (its own session; the builder decides when to stop), and the parent can end it at any
time, which shuts the Ray runtime it started down with it. If the parent dies (SIGKILL), a
watchdog thread notices and shuts Ray down too.

The job is Ray Data: the texts in blocks of `batch_size`, `map_batches` with a class that loads the
model once per actor (its probe sentence must embed as on the driver, or the actor refuses), an
actor pool of `workers`. Ray restarts a lost actor and retries its batch (`retries` times), so a
killed worker costs the batches it held, nothing else.
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from index.compat import Space, same_space
from index.embed.base import Embedder
from index.errors import ModelError, RagError

LOCAL = ("", "auto", "local")  # addresses that start a Ray runtime on this machine
TEXTS_PER_MESSAGE = 8192  # texts per pipe message: a million chunks never sit in one pickle


class Unfit(Exception):
    """The cluster cannot hold one worker of the size asked for."""


@dataclass(frozen=True)
class Job:
    """What the child needs: where to run, how wide, and how to make the model on a worker."""

    address: str
    workers: int  # actors in the pool; 0: as many as the cluster's CPUs (or GPUs) hold
    cpus: float  # per actor
    gpus: float  # per actor
    batch_size: int  # texts per batch (one task, one cache commit)
    retries: int  # restarts of a lost actor, and retries of its batch, before the build fails
    object_store_mb: int  # the object store of a runtime started here
    recipe: Callable[[], Embedder]  # makes the embedder on a worker (pickled to it)
    space: Space  # the driver's model: a worker whose probe differs refuses to embed
    log: str  # Ray's output goes here
    runtime_env: Mapping[str, Any] = field(default_factory=dict)


def serve(conn: Connection, job: Job) -> None:
    """The child process: connect, embed what the parent sends, send each batch back, shut Ray down."""
    os.setsid()  # no Ctrl-C from the terminal: the parent decides when to stop
    log = open(job.log, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the process's stdout/stderr)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    # The parent stops this process with SIGINT: a KeyboardInterrupt unwinds to `finally`, which shuts
    # Ray down. (Not SIGTERM: Ray's own handler for it ends the process at once, leaving its agents.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        conn.send(("error", "install", "Ray is not installed"))
        return
    try:
        try:
            workers = _connect(ray, job)
        except Unfit as exc:
            conn.send(("error", "unfit", str(exc)))
            return
        except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
            reason = _first_line(exc)
            if any(type(e).__name__ == "AuthenticationError" for e in _causes(exc)):
                reason = ("it asks for a token: set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN (or the file "
                          "~/.ray/auth_token) to the cluster's")
            conn.send(("error", "unreachable", f"cannot connect to the Ray cluster at {job.address or 'auto'}: "
                       f"{reason}"))
            return
        resources = ray.cluster_resources()
        conn.send(("ready", {"workers": workers, "cpus": resources.get("CPU", 0), "gpus": resources.get("GPU", 0)}))
        texts: list[str] = []
        while (message := conn.recv())[0] == "texts":
            texts.extend(message[1])
        for rows, vectors in _embed(ray, job, texts, workers):
            conn.send(("batch", rows, vectors))
        conn.send(("done",))
    except (BrokenPipeError, EOFError, KeyboardInterrupt):  # the parent is gone, or stopped this job
        pass
    except Exception as exc:  # noqa: BLE001 - the process's edge: what is not sent back is lost
        conn.send(("error", *classify(exc, job.retries)))
    finally:
        ray.shutdown()


def _connect(ray: Any, job: Job) -> int:
    """Join the cluster, or start a Ray runtime here; the pool's size."""
    import logging

    quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "runtime_env": dict(job.runtime_env) or None}
    if job.address == "local" or (job.address in LOCAL and not os.environ.get("RAY_ADDRESS")):
        workers = job.workers or max(1, int((os.cpu_count() or 1) // max(job.cpus, 1)))
        # Only what the pool needs, and a small object store: the machine may be shared.
        ray.init(address="local", num_cpus=max(1, math.ceil(workers * job.cpus)),
                 object_store_memory=job.object_store_mb * 1024 * 1024, include_dashboard=False, **quiet)
    else:  # an address, or RAY_ADDRESS (a job submitted to a cluster runs its driver with it set)
        ray.init(address=None if job.address in LOCAL else job.address, **quiet)
        workers = job.workers
    resources = ray.cluster_resources()
    fits = resources.get("GPU", 0) / job.gpus if job.gpus else resources.get("CPU", 0) / job.cpus
    if fits < 1:
        raise Unfit(f"the Ray cluster has {resources.get('CPU', 0):g} CPUs and {resources.get('GPU', 0):g} GPUs, "
                    f"less than one worker asks for ({job.cpus:g} CPUs, {job.gpus:g} GPUs)")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the parent shows progress, from the batches it receives
    ctx.print_on_execution_start = False
    return workers or int(fits)


def _embed(ray: Any, job: Job, texts: list[str], workers: int):  # type: ignore[no-untyped-def]
    """Each batch of (rows, vectors) as an actor finishes it."""
    import numpy as np
    import pyarrow as pa

    size = job.batch_size
    # One block per batch, cut as a local build cuts its batches: the same texts meet in one call.
    blocks = [pa.table({"row": np.arange(i, min(i + size, len(texts)), dtype=np.int64), "text": texts[i:i + size]})
              for i in range(0, len(texts), size)]
    dataset = ray.data.from_arrow(blocks)
    import warnings

    with warnings.catch_warnings():
        # Ray 2.60 deprecates the remote arguments (max_restarts) in favour of named ones it does not
        # have yet for restarts; pyproject keeps ray below the version that removes them.
        warnings.simplefilter("ignore")
        dataset = dataset.map_batches(
            embedding_actor(job.recipe, job.space), batch_size=size, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=job.cpus, num_gpus=job.gpus or None,
            max_restarts=job.retries, max_task_retries=job.retries)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
        yield np.asarray(batch["row"], dtype=np.int64), np.asarray(batch["vector"], dtype=np.float32)


def embedding_actor(recipe: Callable[[], Embedder], space: Space) -> type:
    """The class Ray Data runs in each actor: it loads the model once, then embeds batch after batch.

    Made here, with the recipe in its closure, so that Ray pickles it whole. The model loads with
    the first batch rather than in `__init__`: an error there (a model missing on a node, another
    model) then reaches the driver as the error it is, not as an actor that died starting.
    """

    class EmbedChunks:
        def __init__(self) -> None:
            self.embedder: Embedder | None = None

        def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
            if self.embedder is None:
                embedder = recipe()
                if not same_space(Space.of(embedder), space):
                    raise ModelError(f"the model on Ray worker {os.uname().nodename} embeds differently from the "
                                     f"one here ({space.model_id}); install the same model on every node")
                self.embedder = embedder
            return {"row": batch["row"], "vector": self.embedder.embed([str(t) for t in batch["text"]])}

    return EmbedChunks


def classify(exc: BaseException, retries: int) -> tuple[str, str]:
    """(kind, one line) for a failed job: the model, the workers' setup, out of memory, a worker lost
    for good, or something else."""
    import ray.exceptions as rx

    chain = list(_causes(exc))
    for error in chain:
        if isinstance(error, RagError):
            return error_kind(type(error)), _first_line(error)
    text = "\n".join(f"{type(e).__name__}: {e}" for e in chain)
    # An error a worker raised arrives as the text of its traceback only (Ray Data wraps it).
    raised = re.findall(r"^index\.errors\.(\w+): (.+)$", text, re.MULTILINE)
    if raised:
        return f"rag:{raised[-1][0]}", raised[-1][1].strip()
    if any(getattr(e, "actor_init_failed", False) for e in chain):
        # The class or the recipe could not be unpickled there: rag is not installed on the workers.
        return "setup", f"the Ray workers cannot start rag's embedder ({_last_error(text)})"
    if any(isinstance(e, rx.OutOfMemoryError | rx.ObjectStoreFullError) for e in chain) or \
            "out of memory" in text.lower() or "OutOfMemoryError" in text:
        return "oom", "a Ray worker ran out of memory while embedding"
    if any(isinstance(e, rx.RayActorError | rx.WorkerCrashedError | rx.NodeDiedError) for e in chain):
        again = f", and again each of the {retries} times it was restarted" if retries else ""
        return "died", f"a Ray worker died while embedding{again}"
    return "failed", f"the Ray job failed: {_last_error(text)}"


def error_kind(kind: type[RagError]) -> str:
    """The kind a domain error is sent back as; `index.embed.distributed` makes the same class of it."""
    return f"rag:{kind.__name__}"


def _last_error(text: str) -> str:
    """The innermost `SomeError: message` line of a chain of tracebacks, else its first line."""
    found = re.findall(r"^\s*([A-Za-z_.]*(?:Error|Exception): .+)$", text, re.MULTILINE)
    return found[-1].strip() if found else _first_line(Exception(text))


def _causes(exc: BaseException):  # type: ignore[no-untyped-def]
    """The exception, what it wraps (`cause` of Ray's task errors) and what caused it, once each."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        error = todo.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        cause = getattr(error, "cause", None)
        todo += [cause if isinstance(cause, BaseException) else None, error.__cause__, error.__context__]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _watch_parent(parent: int) -> None:
    """End this process (and so the Ray runtime it started) once the parent is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGINT)
