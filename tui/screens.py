"""Modal screens: the passages retrieved for the last question, and the paths to index."""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

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

    def compose(self):  # type: ignore[no-untyped-def]
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


class BuildScreen(ModalScreen[list[str] | None]):
    """Asks for files, folders or globs to index (shell-style quoting); Enter builds, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    BuildScreen { align: center middle; }
    BuildScreen > Vertical { width: 80%; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    """

    def __init__(self, default: str = "") -> None:
        super().__init__()
        self.default = default

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical():
            yield Static(Text("Index these files, folders or globs (replaces the current index):"), markup=False)
            yield Input(value=self.default, placeholder="~/notes docs/**/*.md report.pdf", id="paths")
            yield Static(Text("Enter to build · Esc to cancel", style="dim"), markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            paths = shlex.split(event.value)
        except ValueError as exc:
            self.notify(f"cannot read the paths: {exc}", severity="error")
            return
        self.dismiss(paths or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
