"""The chat app and `make_app`, the one factory that `rag chat` and the tests call.

The first screen appears at once: the embedding model loads, answers are computed and indexes
built in thread workers, and the UI only hears of them through `call_from_thread`. One lock keeps
answering and (re)indexing from running at the same time; typing is never blocked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, OptionList, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from index.embedder import DEFAULT_MODEL, Embedder
from index.errors import RagError
from rag.answer import Answer
from rag.assistant import Assistant
from rag.bots import BotProfile
from rag.engines import ENGINES
from rag.settings import Settings
from tui.actions import ConversationActionsMixin
from tui.bots import BotsMixin
from tui.conversation import AnswerView, Conversation, QuestionView
from tui.engine import Answerer
from tui.format import CITE_SCHEME
from tui.indexing import IndexingMixin
from tui.prompt import PromptInput
from tui.sources import SourcesPane
from tui.welcome import Holdings, Welcome, holdings


class ChatApp(BotsMixin, IndexingMixin, ConversationActionsMixin):
    TITLE = "rag chat"
    CSS = """
    #chat { width: 3fr; }
    #progress { height: 1; display: none; padding: 0 1; }
    #progress.-active { display: block; }
    #progress Label { width: auto; margin-right: 1; }
    #status { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+r", "retrieved", "Passages"),
        Binding("ctrl+o", "copy_answer", "Copy"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+b", "rebuild", "Rebuild"),
        Binding("f5", "update", "Update index"),
    ]

    def __init__(self, answerer: Answerer, export_dir: Path, overrides: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.answerer, self.export_dir = answerer, export_dir
        self.overrides = dict(overrides or {})  # kept when switching bots
        self.profile: BotProfile | None = None
        self.assistant, self.settings = answerer.assistant, answerer.assistant.settings
        self.held: Holdings | None = None
        self.state = "starting"
        self.status_line = ""
        self.ready = False  # the engine is warm: the next answer needs no model load
        self._lock = threading.Lock()
        self._current: AnswerView | None = None
        self.assistant.progress = self._progress

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="chat"):
                yield Conversation(id="conversation")
                yield PromptInput(id="prompt", placeholder="Ask a question · Enter sends · Shift+Enter new line")
            yield SourcesPane(id="sources")
        with Horizontal(id="progress"):
            yield Label("", id="progress-label")
            yield ProgressBar(id="progress-bar", show_eta=False)
        yield Static("", id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PromptInput).focus()
        self._load_holdings()
        self.query_one(Conversation).mount(Welcome(self.held, self.profile))
        if self.held:
            self._set_state("loading model…")
            self._warm()
        else:
            self._set_state("no index")

    # ---- status -------------------------------------------------------------------------------
    def _load_holdings(self) -> None:
        """What the bot's index holds, and its profile (for the welcome), read anew."""
        try:
            self.profile = self.assistant.profile
        except RagError as exc:  # a profile broken since the chat opened: the welcome falls back
            self.profile = None
            self.notify(str(exc), title="Bot", severity="error")
        try:
            self.held = holdings(self.settings)
        except RagError as exc:
            self.held = None
            self.notify(str(exc), title="Index", severity="error")

    def _set_state(self, state: str) -> None:
        self.state = state
        held = self.held
        model = held.model if held else (self.settings.model or DEFAULT_MODEL)
        size = f" · {held.chunks} passages in {held.files} file{'s' * (held.files != 1)}" if held else ""
        line = f"bot {self.settings.bot} · engine {self.answerer.label} · model {model}{size} · {state}"
        self.status_line = line
        self.query_one("#status", Static).update(Text(line))

    # ---- answering ----------------------------------------------------------------------------
    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        self.ask(event.text)

    def ask(self, question: str) -> AnswerView:
        if self._current is not None:
            self._current.stop("cancelled", "cancelled: a new question was asked")
        view = self._current = AnswerView(question)
        conversation = self.query_one(Conversation)
        conversation.mount_all([QuestionView(question), view])
        conversation.scroll_end(animate=False)
        self._set_state("answering…")
        self._answer(question, view)
        return view

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, question: str, view: AnswerView) -> None:
        worker = get_current_worker()

        def show(fragment: str) -> None:
            if worker.is_cancelled:
                raise _Cancelled  # stops a generative engine mid-stream: nobody reads the rest
            self.call_from_thread(view.append, fragment)  # type: ignore[arg-type]

        try:
            with self._lock:
                if worker.is_cancelled:
                    return
                answerer = self.answerer  # read under the lock: an engine switch swaps it under the lock
                answer = answerer.answer(question, show)
        except _Cancelled:
            return
        except RagError as exc:  # EngineError included: endpoint down, key refused, model missing
            self.call_from_thread(self._answer_failed, view, str(exc))
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._answered, view, answer, answerer.generative)  # type: ignore[arg-type]

    async def _answered(self, view: AnswerView, answer: Answer, rewrite: bool = False) -> None:
        await view.finish(answer, rewrite)
        if view.answer is answer:
            self.query_one(SourcesPane).show(answer)
            self.ready = True
            self._set_state("ready")
        self.query_one(Conversation).scroll_end(animate=False)

    def _answer_failed(self, view: AnswerView, message: str) -> None:
        view.stop("failed", f"no answer: {message}")
        self.notify(message, title="Cannot answer", severity="error")
        self._set_state("ready" if self.ready else "error")

    def action_cancel(self) -> None:
        view = self._current
        if view is not None and view.state == "answering":
            self.workers.cancel_group(self, "answer")
            view.stop("cancelled", "cancelled (Esc)")
            self._set_state("ready" if self.ready else "loading model…")

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        if not event.href.startswith(CITE_SCHEME):
            return
        view = next((w for w in event.markdown.ancestors_with_self if isinstance(w, AnswerView)), None)
        if view is not None and view.answer is not None:
            self.select_citation(view.answer, int(event.href[len(CITE_SCHEME):]))

    def select_citation(self, answer: Answer, n: int) -> bool:
        sources = self.query_one(SourcesPane)
        if sources.answer is not answer:
            sources.show(answer, n)
        return sources.select(n)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "suggestions":
            self.ask(str(event.option.prompt))

    # ---- background loading -------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _warm(self, engine: str | None = None) -> None:
        """Warm the answerer; with `engine`, first switch to it (kept only if it warms: a bad engine
        setting leaves the chat answering as before)."""
        try:
            with self._lock:
                answerer = self.answerer if engine is None else self.answerer.switched(engine)
                answerer.warm()
                # Swapped under the lock, so that indexing and answering never see half a switch.
                self.answerer, self.assistant, self.settings = answerer, answerer.assistant, answerer.assistant.settings
        except RagError as exc:  # EngineError included
            self.call_from_thread(self._warm_failed, str(exc), engine)  # type: ignore[arg-type]
            return
        self.call_from_thread(self._warmed)

    def _warm_failed(self, message: str, engine: str | None) -> None:
        if engine is None:
            self.notify(message, title="Cannot load", severity="error")
            self._set_state("error")
        else:
            self.notify(message, title=f"Cannot switch to the {engine} engine", severity="error")
            self._set_state("ready" if self.ready else "error")

    def _warmed(self) -> None:
        self.ready = True
        if self.state != "answering…":
            self._set_state("ready")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker becomes a notification, not a crash."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="Unexpected error", severity="error")
            if event.worker.group == "answer" and self._current is not None:
                self._current.stop("failed", "no answer: unexpected error")
            self.query_one("#progress").remove_class("-active")

    # ---- command palette ----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New conversation", "Clear the conversation (ctrl+n)", self.action_new_conversation)
        yield SystemCommand("Rebuild index", "Re-index the current sources from scratch (ctrl+b)", self.action_rebuild)
        yield SystemCommand("Update index", "Re-embed only new or changed files (F5)", self.action_update)
        yield SystemCommand("Index files…", "Build a new index from files, folders or globs", self.action_index_paths)
        yield SystemCommand("Show retrieved passages", "Every passage retrieved for the last question (ctrl+r)",
                            self.action_retrieved)
        yield SystemCommand("Copy answer", "Copy the last answer and its sources (ctrl+o)", self.action_copy_answer)
        yield SystemCommand("Export conversation", "Write the conversation to Markdown with its citations (ctrl+s)",
                            self.action_export)
        for name in ENGINES:
            yield SystemCommand(f"Engine: {name}", f"Answer with the {name} engine",
                                lambda n=name: self.switch_engine(n))  # type: ignore[misc]
        yield from self.bot_commands()

    def switch_engine(self, name: str) -> None:
        """Answer with engine `name` from now on, in the same conversation (the switch waits for a
        running answer or indexing); an engine that cannot be made is a notification."""
        if name == self.answerer.name:
            self.notify(f"Already answering with the {name} engine.")
            return
        self._set_state(f"switching to {name}…")
        self._warm(name)


class _Cancelled(Exception):
    """Raised from the answer's stream callback once the answer is cancelled."""


def make_app(settings: Settings | None = None, embedder: Embedder | None = None, engine: str | None = None,
             export_dir: Path | None = None, overrides: dict[str, Any] | None = None) -> ChatApp:
    """The chat app for `settings` (loaded from config and env when None), answering with `engine`
    (a name in `rag.engines.ENGINES`; None: the settings' engine). `overrides` are the flags that
    `settings` was loaded with: a switch to another bot keeps them. Nothing is loaded yet: the index
    opens on mount, the models in a background worker."""
    settings = settings or Settings.load(**(overrides or {}))
    overrides = dict(overrides or {})
    if engine is not None:
        overrides["engine"] = engine
        if engine != settings.engine:
            settings = replace(settings, engine=engine)
    return ChatApp(Answerer(Assistant(settings, embedder=embedder)), export_dir or Path.cwd(), overrides)
