"""Running the app on uvicorn: one process, N worker processes, or (tests, benchmarks) a thread.

The socket is bound here, before uvicorn starts, so that a port in use is one `PortInUse` error
rather than uvicorn's log and exit; every worker process accepts on that one socket. Timeouts:
`HEADER_TIMEOUT_S` for a request's headers (`rag.server.http`), `ServerConfig.read_timeout` for its
body, `IDLE_TIMEOUT_S` for a keep-alive connection between requests. On SIGTERM or Ctrl+C uvicorn
stops accepting, lets answers in progress finish for `ServerConfig.grace_s`, then cancels the rest.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from index.errors import RagError

IDLE_TIMEOUT_S = 5
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class PortInUse(RagError):
    exit_code = 2


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait for TIME_WAIT
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is in use; stop what holds it or pass --port") from None
        raise RagError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def config(app: Any, grace_s: float, workers: int = 1, log_level: str = "warning") -> uvicorn.Config:
    from rag.server.http import TimedH11Protocol

    return uvicorn.Config(app, http=TimedH11Protocol, workers=workers, factory=isinstance(app, str),
                          timeout_keep_alive=IDLE_TIMEOUT_S, timeout_graceful_shutdown=int(grace_s) or None,
                          timeout_worker_healthcheck=120, log_level=log_level, access_log=False,
                          server_header=False)


def serve(app: Any, sock: socket.socket, grace_s: float, workers: int = 1) -> None:
    """Serve until SIGTERM or Ctrl+C. With several workers `app` is the import string of a factory."""
    cfg = config(app, grace_s, workers)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(cfg, sockets=[sock]).run()
    else:
        uvicorn.Server(cfg).run(sockets=[sock])


class Running:
    """A server in a thread: its base `url`; `stop()` shuts it down as SIGTERM would."""

    def __init__(self, app: Any, grace_s: float) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(config(app, grace_s))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> Running:
        self.thread.start()
        while not self.server.started:  # uvicorn offers no event to wait on: poll its flag
            if not self.thread.is_alive():
                raise RuntimeError("the server stopped while starting")
            self.thread.join(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()


@contextmanager
def in_thread(app: Any, grace_s: float = 5.0) -> Iterator[Running]:
    """Serve `app` on a free loopback port in a thread until the block ends."""
    running = Running(app, grace_s).start()
    try:
        yield running
    finally:
        running.stop()


