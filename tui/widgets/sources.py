"""The sources pane: the citations of one answer, and the passage of the selected one with the
cited sentence highlighted, its file and lines, retrieval scores and the support of each sentence."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from rag.answer import Answer, Citation
from rag.answerers.verify import PARTIAL, SUPPORTED, UNSUPPORTED
from rag.present.terminal import safe
from tui.format import cited_spans, passage, scores, where

EMPTY = "Ask a question; the passages it cites show here."
QUOTED = "quoted"  # an extractive sentence: a verbatim quote (the default of rag.answer.AnswerSentence)
SUPPORT_MARKS = {QUOTED: "✓", SUPPORTED: "✓", PARTIAL: "~", UNSUPPORTED: "✗"}


class SourcesPane(Vertical):
    DEFAULT_CSS = """
    SourcesPane { width: 2fr; border-left: vkey $primary; padding: 0 1; }
    SourcesPane > .title { text-style: bold; color: $primary; }
    SourcesPane OptionList { height: auto; max-height: 7; border: none; padding: 0; }
    SourcesPane #passage-scroll { height: 1fr; }
    SourcesPane #passage-head { text-style: bold; }
    SourcesPane #passage-meta { color: $text-muted; margin-bottom: 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.answer: Answer | None = None
        self.selected: int | None = None
        self._passage = Text("")

    def compose(self) -> ComposeResult:
        yield Static("Sources", classes="title")
        yield OptionList(id="citations")
        with VerticalScroll(id="passage-scroll"):
            yield Static(Text(EMPTY), id="passage-head", markup=False)
            yield Static("", id="passage-meta", markup=False)
            yield Static("", id="passage", markup=False)

    def show(self, answer: Answer, n: int | None = None) -> None:
        """List the citations of `answer` and show source `n` (the first one by default)."""
        self.answer = answer
        options = self.query_one("#citations", OptionList)
        options.clear_options()
        options.add_options([Option(Text(f"[{c.n}] {where(c.hit, c.shown)}{_state(c)}", no_wrap=True,
                                         overflow="ellipsis"), id=str(c.n)) for c in answer.citations])
        if answer.citations:
            self.select(n or answer.citations[0].n)
        else:
            self._detail(Text("No passage was retrieved."), Text(""), Text(""))

    def clear(self) -> None:
        self.answer, self.selected = None, None
        self.query_one("#citations", OptionList).clear_options()
        self._detail(Text(EMPTY), Text(""), Text(""))

    def select(self, n: int) -> bool:
        """Show source `n` of the current answer; False when it has no such source."""
        if self.answer is None:
            return False
        cit = next((c for c in self.answer.citations if c.n == n), None)
        if cit is None:
            return False
        self.selected = n
        options = self.query_one("#citations", OptionList)
        index = options.get_option_index(str(n))
        if options.highlighted != index:
            options.highlighted = index
        meta = Text(scores(cit.hit))
        if self.answer.abstained:
            meta.append("\nnearest passage: the answer abstained")
        uncited = not self.answer.abstained  # an uncited sentence (unsupported) shows under every source
        for sentence in self.answer.sentences:
            if n in sentence.citations or (uncited and not sentence.citations):
                mark = SUPPORT_MARKS.get(sentence.support, "?")
                meta.append(f"\n{mark} {sentence.support}{'' if sentence.citations else ', cites nothing'}: ")
                meta.append(_short(sentence.text), style="italic")
        spans = cited_spans(self.answer, n)
        self._detail(Text(f"[{n}] {where(cit.hit, cit.shown)}{_state(cit)}"), meta, passage(cit.hit.chunk.text, spans))
        return True

    def _detail(self, head: Text, meta: Text, body: Text) -> None:
        self.query_one("#passage-head", Static).update(head)
        self.query_one("#passage-meta", Static).update(meta)
        self._passage = body
        self.query_one("#passage", Static).update(body)
        self.query_one("#passage-scroll", VerticalScroll).scroll_home(animate=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and int(event.option.id) != self.selected:
            self.select(int(event.option.id))

    def passage_text(self) -> str:
        return self._passage.plain

    def passage_spans(self) -> list[tuple[int, int]]:
        """Where the passage shown is highlighted (the sentences the answer cites)."""
        return [(s.start, s.end) for s in self._passage.spans]


def _state(cit: Citation) -> str:
    """`  (changed since indexed)` or `  (deleted)` when the cited file moved on since it was indexed."""
    return f"  ({cit.source_state})" if cit.source_state else ""


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(safe(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
