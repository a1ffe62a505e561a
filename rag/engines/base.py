"""The generative engine protocol and its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from index.errors import RagError

Message = dict[str, str]


class EngineError(RagError):
    """The engine cannot answer: endpoint down, key refused, model missing, timeout."""

    exit_code = 9


class StreamCutError(EngineError):
    """The answer stream stopped in the middle; what arrived is kept and marked incomplete."""


class Engine(Protocol):
    name: str
    model: str

    def stream(self, messages: list[Message], max_tokens: int = 512) -> Iterator[str]:
        """Yield the answer's text piece by piece; raise EngineError (StreamCutError mid-answer)."""
        ...
