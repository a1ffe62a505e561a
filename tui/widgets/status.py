"""The status bar: one line saying which bot, engine and embedding model answer, what the index holds,
and what the chat is doing now (loading model…, answering…, indexing…, ready)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rag.summary import IndexSummary


def status_line(bot: str, engine: str, model: str, held: IndexSummary | None, state: str) -> str:
    """`bot default · engine extractive · model M · 3 passages in 1 file · ready`; the index's model
    when there is an index (the one it was built with), else `model`, the one the settings name."""
    size = f" · {held.chunks} passages in {held.files} file{'s' * (held.files != 1)}" if held else ""
    return f"bot {bot} · engine {engine} · model {held.model if held else model}{size} · {state}"


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
