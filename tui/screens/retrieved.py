"""The passages retrieved for a question, ranked, with their scores and the sentences cited from them.

Opened with Ctrl+R on the last answer; Esc or q closes it. Passages are `rich.text.Text`, never markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from rag.answer import Answer
from tui.format import cited_spans, passage, scores, where


class RetrievedScreen(ModalScreen[None]):
    """Every passage retrieved for a question, ranked, with its scores; Esc closes."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    RetrievedScreen { align: center middle; }
    RetrievedScreen > Vertical { width: 90%; height: 85%; border: thick $primary; background: $surface; padding: 0 1; }
    RetrievedScreen .hit { text-style: bold; margin-top: 1; }
    RetrievedScreen .meta { color: $text-muted; }
    """

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer

    def compose(self) -> ComposeResult:
        cited = {c.hit.chunk.key: c.n for c in self.answer.citations}
        with Vertical():
            yield Static(Text(f"Retrieved for: {self.answer.question}  (Esc to close)", style="bold"), markup=False)
            with VerticalScroll():
                for rank, hit in enumerate(self.answer.retrieved, start=1):
                    tag = f"  cited as [{cited[hit.chunk.key]}]" if hit.chunk.key in cited else ""
                    yield Static(Text(f"{rank}. {where(hit)}{tag}"), classes="hit", markup=False)
                    yield Static(Text(scores(hit)), classes="meta", markup=False)
                    spans = cited_spans(self.answer, cited[hit.chunk.key]) if tag else []
                    yield Static(passage(hit.chunk.text, spans), markup=False)
