"""Snapshots of the main screens (pytest-textual-snapshot). Deterministic: the fake embedder, paths
relative to the repository root, no clocks or timings on screen, the cursor not blinking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from index.embed import HashEmbedder
from rag.config.settings import Settings
from tests.conftest import ROOT
from tests.tui.conftest import wait_until
from tui.app import ChatApp, make_app
from tui.widgets.prompt import PromptInput

SIZE = (120, 34)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # document paths show relative to the working directory


def _steady(then: Callable[[Pilot], object] | None = None):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        app.query_one(PromptInput).cursor_blink = False
        await wait_until(pilot, lambda: app.ready or app.state == "no index")
        if then is not None:
            await then(pilot)  # type: ignore[misc]

    return run_before


def test_welcome(snap_compare, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(home=fake_home), embedder=HashEmbedder())
    assert snap_compare(app, terminal_size=SIZE, run_before=_steady())


def test_no_index(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(Settings(home=tmp_path / "empty"), embedder=HashEmbedder())
    assert snap_compare(app, terminal_size=SIZE, run_before=_steady())


def test_answer_with_sources(snap_compare, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    async def ask(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        app.ask("Quante unità di chip ha ordinato ByteDance?")
        await wait_until(pilot, lambda: app.last_answer() is not None)

    app = make_app(Settings(home=fake_home), embedder=HashEmbedder())
    assert snap_compare(app, terminal_size=SIZE, run_before=_steady(ask))


def test_retrieved_passages(snap_compare, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    async def ask_and_show(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        app.ask("Con quale azienda rivaleggia Coze?")
        await wait_until(pilot, lambda: app.last_answer() is not None)
        await pilot.press("ctrl+r")

    app = make_app(Settings(home=fake_home), embedder=HashEmbedder())
    assert snap_compare(app, terminal_size=SIZE, run_before=_steady(ask_and_show))


def test_generated_answer_with_support(snap_compare, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    async def ask(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        app.ask("Quante unità di chip ha ordinato ByteDance?")
        await wait_until(pilot, lambda: app.last_answer() is not None)

    app = make_app(Settings(home=fake_home), embedder=HashEmbedder(), engine="fake")
    assert snap_compare(app, terminal_size=SIZE, run_before=_steady(ask))
