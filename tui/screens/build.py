"""The paths to index: files, folders or globs typed shell-style, prefilled with the index's sources.

The screen only reads the paths; building is the app's part (through the controller).
"""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


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

    def compose(self) -> ComposeResult:
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
