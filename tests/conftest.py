"""Shared fixtures: a temporary RAG_HOME per test, the real bundled model once per session, and a
helper that runs `rag` as a subprocess exactly as a user would.

Two tiers: a test that loads the real model or starts a process is marked `slow` (by hand, or here
for the fixtures that do it); `make test-fast` runs the rest, on fakes alone, for the edit-test loop.
A test left unmarked that starts a process or loads the model fails, so the fast tier stays fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = ROOT / "tests" / "data"  # everything a test reads is in the repository


SLOW_FIXTURES = {"real_embedder", "seed_assistant", "rag"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_tier_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the slow tier, starting a process or loading the real model is a test failure."""
    if request.node.get_closest_marker("slow"):
        return
    from index.embed import SentenceTransformerEmbedder

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("this test starts a process or loads the real model: mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(SentenceTransformerEmbedder, "__init__", refuse)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, also exported as RAG_HOME for anything that reads the environment."""
    path = tmp_path / "home"
    monkeypatch.setenv("RAG_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    from index.embed import make_embedder

    return make_embedder("sentence-transformers")


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory: pytest.TempPathFactory, real_embedder):  # type: ignore[no-untyped-def]
    """An Assistant with the real model and a real index of the bundled seeds (built once)."""
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    assistant = Assistant(Settings(home=tmp_path_factory.mktemp("seedhome")), embedder=real_embedder)
    assistant.build([str(SEEDS)])
    return assistant


class RagResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code, self.out, self.err = proc.returncode, proc.stdout, proc.stderr

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.out)


@pytest.fixture
def rag(home: Path) -> Callable[..., RagResult]:
    """Run `python -m rag ARGS...` in a subprocess with this test's RAG_HOME."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> RagResult:
        full_env = {**os.environ, "RAG_HOME": str(home), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True,
                              cwd=cwd or ROOT, env=full_env, timeout=300)
        return RagResult(proc)

    return run


def assert_one_line_error(result: RagResult) -> None:
    """A failure a user sees: non-zero exit, one line on stderr, no traceback."""
    assert result.code != 0, result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("rag: error:"), result.err
    assert "Traceback" not in result.err
