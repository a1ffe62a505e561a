"""The chat pane: the conversation and the question input on the left, the sources of the answer in view
on the right.

It shows a question and, under it, its answer as it comes; it links an answer's `[n]` to its passage in
the sources pane, and starts a conversation anew under the welcome. Answering is not its part: the app
gets answers from the controller and hands them here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Markdown

from rag.answer import Answer
from rag.config.bots import BotProfile
from rag.engines import EXTRACTIVE
from rag.summary import IndexSummary
from tui.format import CITE_SCHEME
from tui.widgets.conversation import AnswerView, Conversation, QuestionView
from tui.widgets.prompt import PromptInput
from tui.widgets.sources import SourcesPane
from tui.widgets.welcome import Welcome

PLACEHOLDER = "Ask a question · Enter sends · Shift+Enter new line"


class ChatPane(Horizontal):
    DEFAULT_CSS = """
    ChatPane #chat { width: 3fr; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current: AnswerView | None = None  # the answer asked for last

    def compose(self) -> ComposeResult:
        with Vertical(id="chat"):
            yield Conversation(id="conversation")
            yield PromptInput(id="prompt", placeholder=PLACEHOLDER)
        yield SourcesPane(id="sources")

    def begin(self, question: str) -> AnswerView:
        """Show `question`, and under it the view its answer will fill; an answer still coming is cancelled."""
        self.stop("cancelled", "cancelled: a new question was asked")
        view = self.current = AnswerView(question)
        conversation = self.query_one(Conversation)
        conversation.mount_all([QuestionView(question), view])
        conversation.scroll_end(animate=False)
        return view

    def stop(self, state: str, why: str) -> bool:
        """Stop the answer still coming, as `state` (cancelled, failed) with `why` under it; False if none is."""
        view = self.current
        if view is None or view.state != "answering":
            return False
        view.stop(state, why)
        return True

    async def finish(self, view: AnswerView, answer: Answer) -> bool:
        """Show `answer` as done in `view`, and its sources; False when the view was stopped meanwhile."""
        # A generated answer streamed in raw: the checked one, its citations as links, replaces it.
        await view.finish(answer, rewrite=answer.engine != EXTRACTIVE)
        shown = view.answer is answer
        if shown:
            self.query_one(SourcesPane).show(answer)
        self.query_one(Conversation).scroll_end(animate=False)
        return shown

    def last_answer(self) -> Answer | None:
        view = self.query_one(Conversation).last_answer()
        return view.answer if view else None

    def turns(self) -> list[tuple[str, Answer | None]]:
        """Every question asked, with its answer (None: cancelled or failed)."""
        return [(v.question, v.answer) for v in self.query_one(Conversation).answers()]

    async def restart(self, held: IndexSummary | None, profile: BotProfile | None) -> None:
        """A new conversation: the welcome alone, no sources, the input focused."""
        self.current = None
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        await conversation.mount(Welcome(held, profile))
        self.query_one(SourcesPane).clear()
        self.query_one(PromptInput).focus()

    async def welcome(self, held: IndexSummary | None, profile: BotProfile | None) -> None:
        """The welcome made anew (what the index holds has changed), above the conversation so far."""
        conversation = self.query_one(Conversation)
        await conversation.query(Welcome).remove()
        if conversation.children:
            await conversation.mount(Welcome(held, profile), before=0)
        else:
            await conversation.mount(Welcome(held, profile))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        if not event.href.startswith(CITE_SCHEME):
            return
        view = next((w for w in event.markdown.ancestors_with_self if isinstance(w, AnswerView)), None)
        if view is not None and view.answer is not None:
            self.select_citation(view.answer, int(event.href[len(CITE_SCHEME):]))

    def select_citation(self, answer: Answer, n: int) -> bool:
        """Show source `n` of `answer` in the sources pane; False when it has no such source."""
        sources = self.query_one(SourcesPane)
        if sources.answer is not answer:
            sources.show(answer, n)
        return sources.select(n)
