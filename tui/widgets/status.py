"""The status bar: one line saying which bot, engine and embedding model answer, what the index holds,
and what the chat is doing now (loading model…, answering…, indexing…, ready)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rag.summary import IndexSummary


def status_line(bot: str, engine: str, model: str, held: IndexSummary | None, state: str,
                changed: bool = False) -> str:
    """`bot default · engine extractive · model M · 3 passages in 1 file · ready`; the index's model
    when there is an index (the one it was built with), else `model`, the one the settings name. Once the
    index has changed while the chat is open (`changed`: a watcher, another terminal, F5), when it did:
    `· index updated 12:03:04`."""
    size = f" · {held.chunks} passages in {held.files} file{'s' * (held.files != 1)}" if held else ""
    when = f" · index updated {_clock(held.built_at)}" if held and changed else ""
    return f"bot {bot} · engine {engine} · model {held.model if held else model}{size}{when} · {state}"


def _clock(built_at: str) -> str:
    """`12:03:04` from `2026-11-29T12:03:04+0000`; the date too when it is not today's."""
    import time

    day, _, clock = built_at.partition("T")
    return clock[:8] if day == time.strftime("%Y-%m-%d") else f"{day} {clock[:5]}"


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.line = ""

    def show(self, line: str) -> None:
        self.line = line
        self.update(Text(line))
