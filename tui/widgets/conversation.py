"""The conversation view: each question, and its answer streamed in as Markdown.

An answer's `[n]` are links (`cite:n`); clicking one, or picking it in the sources pane, shows the
passage. Everything from documents is escaped before it reaches the Markdown (see `tui.format`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static

from rag.answer import Answer
from rag.present.terminal import safe
from tui.format import answer_markdown


class QuestionView(Static):
    DEFAULT_CSS = """
    QuestionView { margin: 1 0 0 0; padding: 0 1; background: $boost; color: $text; text-style: bold; }
    """

    def __init__(self, question: str) -> None:
        super().__init__(Text("› " + safe(question)), markup=False)
        self.question = question


class AnswerView(Vertical):
    """One answer: Markdown that grows fragment by fragment, then a one-line note under it."""

    DEFAULT_CSS = """
    AnswerView { height: auto; padding: 0 1; }
    AnswerView Markdown { margin: 0; padding: 0; background: transparent; }
    AnswerView .note { color: $text-muted; }
    AnswerView.-cancelled .note, AnswerView.-failed .note, AnswerView.-incomplete .note { color: $warning; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.answer: Answer | None = None
        self.state = "answering"  # then done, cancelled or failed
        self.markdown = Markdown(open_links=False)
        self.note = Static(Text("answering…"), classes="note", markup=False)

    def compose(self) -> ComposeResult:
        yield self.markdown
        yield self.note

    async def append(self, fragment: str) -> None:
        if self.state == "answering":
            await self.markdown.append(fragment)

    async def finish(self, answer: Answer, rewrite: bool = False) -> None:
        """Show `answer` as done. `rewrite`: replace the streamed text with the checked answer (its
        citations as links, those to passages not retrieved and, when strict, unsupported sentences gone)."""
        if self.state != "answering":
            return
        self.state, self.answer = "done", answer
        if rewrite:
            await self.markdown.update(answer_markdown(answer, links=True))
        self.set_class(answer.incomplete, "-incomplete")
        self.note.update(Text(answer_note(answer)))

    def stop(self, state: str, why: str) -> None:
        if self.state == "answering":
            self.state = state
            self.add_class(f"-{state}")
            self.note.update(Text(why))


def answer_note(answer: Answer) -> str:
    """The line under an answer: the engine (and model), how well the text is supported, the sources."""
    parts = ["incomplete: the stream was cut"] if answer.incomplete else []
    if answer.abstained:
        return " · ".join([*parts, "no answer in the documents; nearest passages in the sources pane"])
    parts.append(f"{answer.engine} ({answer.model})" if answer.model else answer.engine)
    if answer.support:
        parts.append(answer.support)
    n = len(answer.citations)
    return " · ".join([*parts, f"{n} source{'s' * (n != 1)}", "select [n] to see the passage"])


class Conversation(VerticalScroll):
    DEFAULT_CSS = """
    Conversation { height: 1fr; padding: 0 1; }
    """

    def answers(self) -> list[AnswerView]:
        return list(self.query(AnswerView))

    def last_answer(self) -> AnswerView | None:
        finished = [v for v in self.answers() if v.answer is not None]
        return finished[-1] if finished else None
