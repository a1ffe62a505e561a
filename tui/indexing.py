"""Indexing from the chat: rebuild, update or index new paths in a thread worker, with a progress bar
that the builder drives through `Assistant.progress` (every update crosses via `call_from_thread`).

A mixin of `ChatApp`, kept apart so that each module stays one concept.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import App
from textual.widgets import Button, Label, ProgressBar

from index.errors import RagError
from index.records import BuildReport
from rag.assistant import Assistant
from rag.bots import BotProfile
from rag.render import report_text
from tui.conversation import Conversation
from tui.prompt import PromptInput
from tui.screens import BuildScreen
from tui.welcome import Holdings, Welcome


class IndexingMixin(App[None]):
    assistant: Assistant
    held: Holdings | None
    profile: BotProfile | None
    ready: bool
    last_report: BuildReport | None = None  # of the last build or update from the chat (None: it failed)
    index_runs = 0
    _lock: threading.Lock

    if TYPE_CHECKING:  # provided by ChatApp
        def _load_holdings(self) -> None: ...
        def _set_state(self, state: str) -> None: ...
        _warm: Callable[[], object]

    def action_rebuild(self) -> None:
        if self.held:
            self.index("build", list(self.assistant.generation().meta.sources))
        else:
            self.build_sources()

    def build_sources(self) -> None:
        """Index what the bot knows (its profile's sources; the seeds for the default bot)."""
        try:
            sources = self.assistant.sources()
        except RagError as exc:  # no sources, or a profile broken since it was loaded
            self.notify(str(exc), title="Cannot build", severity="error")
            return
        self.index("build", sources)

    def action_update(self) -> None:
        if not self.held:
            self.notify("There is no index to update; build one first (ctrl+b).", severity="warning")
            return
        self.index("update", [])

    def action_index_paths(self) -> None:
        sources = self.assistant.generation().meta.sources if self.held else []

        def build(paths: list[str] | None) -> None:
            if paths:
                self.index("build", paths)

        self.push_screen(BuildScreen(" ".join(shlex.quote(s) for s in sources)), build)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "build-sources":
            self.build_sources()
        elif event.button.id == "build-paths":
            self.action_index_paths()

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def index(self, verb: str, paths: list[str]) -> None:
        self.call_from_thread(self._set_state, "indexing…")
        try:
            with self._lock:
                report = self.assistant.build(paths) if verb == "build" else self.assistant.update()
        except (RagError, OSError) as exc:
            self.call_from_thread(self._index_done, None, str(exc))  # type: ignore[arg-type]
            return
        self.call_from_thread(self._index_done, report,  # type: ignore[arg-type]
                              "Updated" if verb == "update" else "Indexed")

    def _progress(self, label: str, total: int) -> Callable[[int], None]:
        """`Assistant.progress`: called from the indexing worker, it drives the progress bar."""
        self.call_from_thread(self._progress_stage, label, total)
        return lambda n: self.call_from_thread(self.query_one(ProgressBar).advance, n)

    def _progress_stage(self, label: str, total: int) -> None:
        self.query_one("#progress").add_class("-active")
        self.query_one("#progress-label", Label).update(Text(label))
        self.query_one(ProgressBar).update(total=total, progress=0)

    async def _index_done(self, report: BuildReport | None, message: str) -> None:
        self.query_one("#progress").remove_class("-active")
        self.last_report = report
        self.index_runs += 1
        if report is None:
            self.notify(message, title="Indexing failed", severity="error")
        else:
            self.notify(report_text(report, verb=message), title="Index")
        self._load_holdings()
        conversation = self.query_one(Conversation)
        await conversation.query(Welcome).remove()  # the welcome says what the index holds now
        await conversation.mount(Welcome(self.held, self.profile), before=0)
        if self.screen is self.screen_stack[0]:  # the welcome's button is gone; back to typing
            self.query_one(PromptInput).focus()
        self.ready = False
        self._set_state("loading model…" if self.held else "no index")
        if self.held:
            self._warm()
