"""Answer engines behind one protocol and a name-keyed registry.

`extractive` (the default, no LLM) lives in `rag.answerers.extractive`; the generative engines here stream
text for a list of chat messages: `openai` (any OpenAI-compatible server), `local` (a GGUF file in
process through llama-cpp-python) and `fake` (deterministic, for tests). Each module imports its
client library only when an engine is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rag.engines.base import Engine, EngineError

EXTRACTIVE = "extractive"
GENERATIVE = ("openai", "local", "fake")
ENGINES = (EXTRACTIVE, *GENERATIVE)  # the first is the default


def make_engine(name: str, settings: Any) -> Engine:
    """Build a generative engine by name from the settings."""
    from rag.engines.fake import FakeEngine
    from rag.engines.local import LocalEngine
    from rag.engines.openai_engine import OpenAIEngine

    factories: dict[str, Callable[[Any], Engine]] = {
        "openai": OpenAIEngine.from_settings, "local": LocalEngine.from_settings, "fake": FakeEngine.from_settings,
    }
    if name not in factories:
        raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    return factories[name](settings)


__all__ = ["ENGINES", "EXTRACTIVE", "GENERATIVE", "Engine", "EngineError", "make_engine"]
