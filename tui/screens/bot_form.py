"""The "New bot…" form: a name, what it is for, what it knows and how it answers, saved as a profile.

The form checks the profile with `rag.config.bots.validate` and saves it with `BotStore.save`, showing any
error in the form itself; building the index and switching to the bot are the app's part
(`tui.app`, through the controller). Welcome text and suggested questions are left to `rag bot edit`.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from rag.config.bots import BotProfile, BotStore, check_name, validate
from rag.engines import ENGINES
from rag.errors import ConfigError


class NewBotScreen(ModalScreen[str | None]):
    """Dismissed with the saved bot's name, or None when cancelled (Esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    NewBotScreen { align: center middle; }
    NewBotScreen > Vertical { width: 80%; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    NewBotScreen Label { margin-top: 1; }
    NewBotScreen #bot-error { color: $error; height: auto; margin-top: 1; }
    NewBotScreen Horizontal { height: auto; margin-top: 1; }
    NewBotScreen Button { margin-right: 2; }
    """

    def __init__(self, store: BotStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("A new bot: its own documents and index", style="bold"), markup=False)
            yield Label("Name (lowercase letters, digits, - or _)")
            yield Input(placeholder="handbook", id="bot-name")
            yield Label("What it is for")
            yield Input(placeholder="Our employee handbook", id="bot-description")
            yield Label("Documents it knows (files, folders or globs, separated by spaces)")
            yield Input(placeholder="~/docs/handbook 'notes/**/*.md'", id="bot-sources")
            yield Label("Instructions for generative engines (persona, rules)")
            yield Input(placeholder="Answer briefly and only from the documents.", id="bot-instructions")
            yield Label("Engine")
            yield Select([(name, name) for name in ENGINES], value="extractive", allow_blank=False, id="bot-engine")
            yield Static("", id="bot-error", markup=False)
            with Horizontal():
                yield Button("Create and index", id="bot-create", variant="primary")
                yield Button("Cancel", id="bot-cancel")

    def _value(self, field: str) -> str:
        return self.query_one(f"#bot-{field}", Input).value.strip()

    def profile(self) -> BotProfile:
        """The profile the form describes; ConfigError says what is wrong with it."""
        name = check_name(self._value("name"))
        if self.store.path(name).exists():
            raise ConfigError(f"a bot named {name!r} exists already; pick another name")
        try:
            sources = shlex.split(self._value("sources"))
        except ValueError as exc:
            raise ConfigError(f"cannot read the documents: {exc}") from None
        if not sources:
            raise ConfigError("a bot needs at least one file, folder or glob to know")
        data = {"name": name, "description": self._value("description"), "instructions": self._value("instructions"),
                "sources": [_absolute(s) for s in sources],
                "engine": str(self.query_one("#bot-engine", Select).value)}
        return validate(data, "new bot")

    def submit(self) -> None:
        try:
            profile = self.store.save(self.profile())
        except (ConfigError, OSError) as exc:
            self.query_one("#bot-error", Static).update(Text(str(exc)))
            return
        self.dismiss(profile.name)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()  # the app's own buttons (the welcome's) are not these
        if event.button.id == "bot-create":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _absolute(source: str) -> str:
    """A path or glob made absolute, so that the bot knows the same files from any working directory."""
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else Path.cwd() / path)
