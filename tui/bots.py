"""Bots in the chat: switch to another bot from the palette, or make one with the "New bot…" form.

A switch makes a new `Assistant` from `Settings.load(bot=NAME)` with the flags the chat was started
with kept (so `--engine` or `--top-k` still win over the profile), sharing the loaded embedding
model, and starts a new conversation: the welcome and the status bar then speak for the new bot.
A mixin of `ChatApp`, kept apart so that each module stays one concept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand

from index.errors import RagError
from rag.assistant import Assistant
from rag.bots import BotStore
from rag.settings import Settings, bundled_seeds
from tui.bot_form import NewBotScreen
from tui.engine import Answerer
from tui.welcome import Holdings


class BotsMixin(App[None]):
    answerer: Answerer
    assistant: Assistant
    settings: Settings
    held: Holdings | None
    ready: bool
    overrides: dict[str, Any]  # the explicit settings the chat was started with (flags)
    _lock: threading.Lock

    if TYPE_CHECKING:  # provided by ChatApp and IndexingMixin
        def _load_holdings(self) -> None: ...
        def _set_state(self, state: str) -> None: ...
        def action_cancel(self) -> None: ...
        async def action_new_conversation(self) -> None: ...
        def build_sources(self) -> None: ...
        _warm: Callable[[], object]

    def bot_store(self) -> BotStore:
        return BotStore(self.settings.home, bundled_seeds())

    def bot_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New bot…", "Make a bot from your documents: a name, what it knows, how it answers",
                            self.action_new_bot)
        try:
            names = self.bot_store().names()
        except OSError as exc:
            self.notify(f"cannot list the bots: {exc}", severity="error")
            return
        for name in names:
            yield SystemCommand(f"Switch bot: {name}", f"Chat with the {name} bot: its own documents and index",
                                lambda n=name: self.switch_bot(n))  # type: ignore[misc]

    def action_new_bot(self) -> None:
        def created(name: str | None) -> None:
            if name is not None:
                self.switch_bot(name, build=True)

        self.push_screen(NewBotScreen(self.bot_store()), created)

    def switch_bot(self, name: str, build: bool = False) -> None:
        """Chat with bot `name` from now on, in a new conversation; with `build`, index its sources when
        it has no index yet. A bot that cannot be loaded (a broken profile) is a notification."""
        if name == self.settings.bot and not build:
            self.notify(f"Already chatting with the {name} bot.")
            return
        self.action_cancel()
        self._set_state(f"switching to bot {name}…")
        self._switch_bot(name, build)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _switch_bot(self, name: str, build: bool) -> None:
        try:
            with self._lock:  # swapped under the lock, so that indexing and answering never see half a switch
                settings = Settings.load(**{**self.overrides, "home": self.settings.home, "bot": name})
                old = self.assistant
                assistant = Assistant(settings, embedder=old.embedder, progress=old.progress, wait=old.wait)
                assistant.profile  # noqa: B018 -- a broken profile fails here, not at the first question
                self.answerer, self.assistant, self.settings = Answerer(assistant), assistant, settings
        except RagError as exc:  # ConfigError included: a broken profile, an unknown bot
            self.call_from_thread(self._switch_failed, name, str(exc))  # type: ignore[arg-type]
            return
        self.call_from_thread(self._bot_switched, build)  # type: ignore[arg-type]

    def _switch_failed(self, name: str, message: str) -> None:
        self.notify(message, title=f"Cannot switch to the {name} bot", severity="error")
        self._set_state("ready" if self.ready else "error")

    async def _bot_switched(self, build: bool) -> None:
        self.ready = False
        self._load_holdings()
        await self.action_new_conversation()
        self.notify(f"Now chatting with the {self.settings.bot} bot.", title="Bot", timeout=3)
        if self.held:
            self._set_state("loading model…")
            self._warm()
        elif build:
            self.build_sources()
        else:
            self._set_state("no index")
