"""The chat's controller: what the chat does, with no Textual in it.

It holds the current `Assistant` (one bot, one engine), the conversation's `ChatSession`, the flags the
chat was started with, and the lock that keeps answering, indexing and switching from running at once.
It switches engines and bots (sharing the loaded embedding model), indexes (the bot's sources, the
index's own sources again, or new paths), warms up, summarises the index for the welcome, and answers,
turning an answer into Markdown fragments for the conversation view (`tui.format`).

Every method may block (models load, indexes build): the app calls them from thread workers and only
moves what they return to the screen. Errors are the domain's (`rag.errors.RagError`); the app words
them. A switch is made whole or not at all: a new assistant is made and warmed first, then swapped in
under the lock, so nothing ever sees half a switch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.answer import Answer
from rag.assistant import Assistant, BuildReport, ProgressFactory
from rag.config.bots import BotProfile
from rag.config.settings import Settings
from rag.conversation import ChatSession
from rag.engines import EXTRACTIVE
from rag.errors import RagError
from rag.summary import IndexSummary
from tui.format import StreamEscaper, answer_fragments


class Controller:
    def __init__(self, assistant: Assistant, overrides: Mapping[str, Any] | None = None) -> None:
        self.assistant = assistant
        self.session = ChatSession()
        self.overrides = dict(overrides or {})  # the flags the chat was started with: a bot switch keeps them
        self.lock = threading.Lock()
        self.model = assistant.settings.llm_model  # the generative engine's model, known for sure once warm
        self._generation: Path | None = None  # the index generation last seen current (index_changed)

    # ---- what is in use -----------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    @property
    def engine(self) -> str:
        """The name of the engine that answers (one of `rag.engines.ENGINES`)."""
        return self.settings.engine

    @property
    def generative(self) -> bool:
        return self.engine != EXTRACTIVE

    @property
    def label(self) -> str:
        """`extractive`, or `fake (fake-quoter)`: the engine and the model it answers with."""
        return f"{self.engine} ({self.model})" if self.generative and self.model else self.engine

    def profile(self) -> BotProfile:
        """The bot's profile; ConfigError when it is broken."""
        return self.assistant.profile

    def summary(self) -> IndexSummary | None:
        """What the bot's index holds, read anew (cheap: metadata and SQLite); None with no index yet."""
        return self.assistant.summary()

    def sources(self) -> list[str]:
        """What the bot knows: its profile's sources (the seeds for the default bot); RagError when none."""
        return self.assistant.sources()

    # ---- warming and switching ----------------------------------------------------------------
    def warm(self) -> None:
        """Load what the first answer needs (index, embedding model, engine client); raises RagError
        (EngineError for an engine that cannot be made), so that a bad setting shows at once."""
        with self.lock:
            self._warm(self.assistant)

    def _warm(self, assistant: Assistant) -> None:
        assistant.warm_up()
        engine = assistant.engine
        self.model = engine.model if engine is not None else assistant.settings.llm_model

    def switch_engine(self, engine: str) -> None:
        """Answer with `engine` from now on: the same index, embedder and conversation. The engine is
        made and warmed first; one that cannot be leaves the controller answering as before."""
        with self.lock:
            old = self.assistant
            assistant = Assistant(replace(old.settings, engine=engine), embedder=old.embedder,
                                  progress=old.progress, wait=old.wait)
            self._warm(assistant)
            self.assistant = assistant

    def switch_bot(self, name: str) -> None:
        """Chat with bot `name` from now on, in a new conversation: its settings are loaded anew with the
        chat's flags kept (so `--engine` or `--top-k` still win over the profile), sharing the loaded
        embedding model. A bot that cannot be loaded (ConfigError: a broken profile, an unknown bot)
        leaves everything as it was. The new bot is not warmed: it may have no index yet."""
        with self.lock:
            old = self.assistant
            settings = Settings.load(**{**self.overrides, "home": old.settings.home, "bot": name})
            assistant = Assistant(settings, embedder=old.embedder, progress=old.progress, wait=old.wait)
            assistant.profile  # noqa: B018 -- a broken profile fails here, not at the first question
            self.assistant, self.session, self.model = assistant, ChatSession(), settings.llm_model
            self._generation = None  # another bot's index: not a change of this one

    def index_changed(self) -> bool:
        """Whether another generation of the bot's index became current since the last call (built by a
        watcher, another terminal or this chat); the first call only notes the current one. One small
        file read: the chat asks every few seconds. The next answer uses the new generation anyway."""
        try:
            current = self.assistant.store.current_folder()
        except RagError:
            return False
        changed = self._generation is not None and current != self._generation
        self._generation = current
        return changed

    def report_progress(self, progress: ProgressFactory) -> None:
        """Where indexing reports its stages (a bot or engine switch keeps it)."""
        self.assistant.progress = progress

    def reset(self) -> None:
        """A new conversation: follow-up questions no longer lean on the earlier ones. A fresh session
        object rather than a cleared one, so an answer still finishing records into the old one."""
        self.session = ChatSession()

    # ---- indexing -----------------------------------------------------------------------------
    def build(self, paths: list[str]) -> BuildReport:
        """A new index of `paths` (files, folders or globs), replacing the bot's current one."""
        with self.lock:
            return self.assistant.build(paths)

    def rebuild(self) -> BuildReport:
        """The index built again from the sources it records; with no index yet, from the bot's."""
        with self.lock:
            held = self.assistant.summary()
            return self.assistant.build(list(held.sources) if held else self.assistant.sources())

    def update(self) -> BuildReport:
        """Only new or changed files re-embedded, deleted ones dropped."""
        with self.lock:
            return self.assistant.update()

    # ---- answering ----------------------------------------------------------------------------
    def answer(self, question: str, show: Callable[[str], None],
               cancelled: Callable[[], bool] = lambda: False) -> Answer | None:
        """Answer `question` as a turn of this conversation, passing Markdown fragments to `show` as
        they come: a generative engine's text as it streams (each piece escaped), an extractive answer
        after, one fragment per sentence. None when `cancelled()` turns true before the answer is done:
        a stream is dropped at its next piece (nobody reads the rest) and the turn is not recorded."""
        with self.lock:  # waits for a running build or switch
            if cancelled():
                return None
            assistant, session = self.assistant, self.session  # what this answer uses, even if a switch follows
            generative = assistant.engine is not None
            escape = StreamEscaper()

            def on_token(piece: str) -> None:
                if cancelled():
                    raise _Cancelled
                fragment = escape(piece)
                if fragment:
                    show(fragment)

            try:
                answer = assistant.ask(question, on_token=on_token if generative else None, session=session)
            except _Cancelled:
                return None
        if not generative:
            for fragment in answer_fragments(answer):
                if cancelled():
                    return None
                show(fragment)
        return answer


class _Cancelled(Exception):
    """Raised from the answer's stream callback once the answer is cancelled."""
