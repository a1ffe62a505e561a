"""TUI fixtures: the app from the one factory (`tui.app.make_app`), with the fake embedder for speed
and determinism, and a `wait_until` that polls background workers instead of sleeping."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from index.embed import HashEmbedder
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.engines import Engine, EngineError
from rag.engines.base import Message
from rag.engines.fake import FakeEngine
from tests.conftest import SEEDS
from tui.app import ChatApp, make_app


def drive(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async Pilot test on a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]

    return run


async def wait_until(pilot: Pilot, condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for the app")
        await pilot.pause(0.02)
    await pilot.pause()


def notes(app: ChatApp) -> list[str]:
    """The notifications the app has raised and not yet expired: "severity: title: message"."""
    return [f"{n.severity}: {n.title}: {n.message}" for n in app._notifications]  # the one private read


@pytest.fixture
def fake_home(tmp_path: Path) -> Path:
    """A data directory with an index of the seeds built with the fake embedder."""
    home = tmp_path / "home"
    Assistant(Settings(home=home), embedder=HashEmbedder()).build([str(SEEDS)])
    return home


@pytest.fixture
def fake_app(fake_home: Path, tmp_path: Path) -> Callable[..., ChatApp]:
    def make(**kwargs: object) -> ChatApp:
        return make_app(Settings(home=fake_home), embedder=HashEmbedder(), export_dir=tmp_path, **kwargs)  # type: ignore[arg-type]

    return make


class GatedEngine(FakeEngine):
    """The fake engine (it quotes passage [1]), stopping after its first word until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.finished = threading.Event()
        self.pieces = 0  # how many were yielded

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        try:
            for i, piece in enumerate(super().stream(messages, max_tokens)):
                if i == 1:
                    self.gate.wait(20)
                self.pieces += 1
                yield piece
        finally:
            self.finished.set()


class DownEngine(FakeEngine):
    """An engine whose endpoint is down until the test sets `up`: every answer fails meanwhile, as
    `openai` fails on a refused connection; then it answers as the fake engine does."""

    MESSAGE = "cannot reach http://127.0.0.1:9/v1; is the server running?"

    def __init__(self) -> None:
        super().__init__()
        self.up = False

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        if not self.up:
            raise EngineError(self.MESSAGE)
        return super().stream(messages, max_tokens)


def use_engine(app: ChatApp, engine: Engine) -> None:
    """Answer with `engine`, an engine object rather than a name (`Assistant.engine` is made from the
    settings on first use; setting it first is the one seam for an engine no setting names)."""
    app.assistant.engine = engine
