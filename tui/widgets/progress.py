"""The indexing progress strip: a label and a bar under the chat, shown only while an index builds.

The builder drives it from a thread worker through `report`, an `Assistant.progress` factory: every
update crosses to the UI thread with `call_from_thread`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class IndexProgress(Horizontal):
    """Hidden until a stage starts; `done` hides it again. `-active` is the class that shows it."""

    DEFAULT_CSS = """
    IndexProgress { height: 1; display: none; padding: 0 1; }
    IndexProgress.-active { display: block; }
    IndexProgress Label { width: auto; margin-right: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="progress-label")
        yield ProgressBar(id="progress-bar", show_eta=False)

    def report(self, label: str, total: int) -> Callable[[int], None]:
        """`Assistant.progress`, called from the indexing worker: a stage of `total` steps begins."""
        self.app.call_from_thread(self.start, label, total)
        bar = self.query_one(ProgressBar)
        return lambda n: self.app.call_from_thread(bar.advance, n)

    def start(self, label: str, total: int) -> None:
        self.add_class("-active")
        self.query_one(Label).update(Text(label))
        self.query_one(ProgressBar).update(total=total, progress=0)

    def done(self) -> None:
        self.remove_class("-active")
