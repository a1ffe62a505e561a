"""Conversation-level actions of the chat: new conversation, retrieved passages, copy and export.

A mixin of `ChatApp`, kept apart so that each module stays one concept.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from rag.answer import Answer
from rag.bots import BotProfile
from rag.render import answer_text
from tui.conversation import AnswerView, Conversation
from tui.engine import Answerer
from tui.format import export_markdown
from tui.prompt import PromptInput
from tui.screens import RetrievedScreen
from tui.sources import SourcesPane
from tui.welcome import Holdings, Welcome


class ConversationActionsMixin(App[None]):
    answerer: Answerer
    export_dir: Path
    held: Holdings | None
    profile: BotProfile | None
    _current: AnswerView | None

    if TYPE_CHECKING:  # provided by ChatApp
        def action_cancel(self) -> None: ...

    def last_answer(self) -> Answer | None:
        view = self.query_one(Conversation).last_answer()
        return view.answer if view else None

    async def action_new_conversation(self) -> None:
        self.action_cancel()
        self._current = None
        self.answerer.reset()
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        await conversation.mount(Welcome(self.held, self.profile))
        self.query_one(SourcesPane).clear()
        self.query_one(PromptInput).focus()

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
        views = self.query_one(Conversation).answers()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.export_dir / f"rag-chat-{stamp}.md"
        path.write_text(export_markdown([(v.question, v.answer) for v in views], title=f"rag chat, {stamp}"),
                        encoding="utf-8")
        return path

    def action_export(self) -> None:
        if not self.query_one(Conversation).answers():
            self.notify("Nothing to export yet.")
            return
        try:
            path = self.export()
        except OSError as exc:
            self.notify(f"cannot write the export: {exc}", severity="error")
            return
        self.notify(f"Exported to {path}", title="Export")
