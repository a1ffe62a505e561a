"""Answer engines as the chat sees them: a question in, Markdown fragments out, then the `Answer`.

Only the extractive answerer exists today. It answers all at once, so its stream is one fragment
per sentence; a generative engine that streams tokens plugs in by implementing `stream` and adding
itself to `ENGINES`. Fragments are Markdown in which document text is escaped (see `tui.format`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from rag.answer import Answer
from rag.assistant import Assistant
from tui.format import answer_fragments

Event = str | Answer  # a Markdown fragment to append, or the finished answer (always last)


class Engine(Protocol):
    name: str

    def warm(self) -> None:
        """Load whatever the first answer needs (index, models); called in a background worker."""

    def stream(self, question: str) -> Iterator[Event]: ...


class ExtractiveEngine:
    """Quotes the sentences of the retrieved passages that answer the question (rag.extractive)."""

    name = "extractive"

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def warm(self) -> None:
        self.assistant.searcher.embed_query("warm up")

    def stream(self, question: str) -> Iterator[Event]:
        answer = self.assistant.ask(question)
        yield from answer_fragments(answer)
        yield answer


ENGINES: dict[str, Callable[[Assistant], Engine]] = {"extractive": ExtractiveEngine}


def make_engine(name: str, assistant: Assistant) -> Engine:
    from index.errors import ConfigError

    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(sorted(ENGINES))}")
    return ENGINES[name](assistant)
