"""Text shaping for the chat: escaped Markdown renders exactly the document's text, highlights land
on the cited sentence, exports carry every citation."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from index.records import Chunk, Hit
from rag.answer import Answer, AnswerSentence, Citation
from tui.format import StreamEscaper, answer_markdown, cite_link, escape_md, escape_stream, export_markdown, passage

NASTY = ["[1] not a link", "*bold?* _x_ `code` <b>tag</b>", "# not a heading", "1. not a list", "- nor this",
         "a &amp; b | c ~~d~~ \\ back", "[x](http://e.vil) ![img](y)", "50% $5 {braces} (parens)", "> quote"]


def _rendered_text(markdown: str) -> str:
    tokens = MarkdownIt("commonmark").parse(markdown)
    inline = [t for t in tokens if t.type == "inline"]
    assert len(inline) == 1, tokens  # one paragraph: nothing became a heading, list or quote
    kinds = {c.type for c in inline[0].children or []}
    assert kinds <= {"text", "softbreak"}, kinds  # no link, emphasis, code or html
    return "".join(c.content for c in inline[0].children or [])


@pytest.mark.parametrize("text", NASTY)
def test_escaped_document_text_renders_as_written(text: str) -> None:
    assert _rendered_text(escape_md(text)) == text


@pytest.mark.parametrize("text", [*NASTY, "12. not a list", "a &amp; b", "## no heading"])
def test_streamed_text_renders_as_written_wherever_the_stream_is_cut(text: str) -> None:
    for cut in range(len(text) + 1):
        assert _rendered_text(escape_stream(text[:cut]) + escape_stream(text[cut:])) == text, cut


def test_streamed_whitespace_keeps_one_paragraph() -> None:
    escape = StreamEscaper()
    pieces = [" ", "One ", "line\n\n", "    - not code ", "\x1b[2Jnor\ta list"]
    assert "".join(escape(p) for p in pieces) == "One line \\- not code nor a list"


def test_escape_strips_terminal_control_sequences() -> None:
    assert escape_md("red \x1b[31mtext\x1b[0m here") == "red text here"


def test_citation_links_are_the_only_links() -> None:
    tokens = MarkdownIt("commonmark").parse(escape_md("see [2](x)") + " " + cite_link(2))
    links = [c.attrs["href"] for t in tokens if t.children for c in t.children if c.type == "link_open"]
    assert links == ["cite:2"]


def _answer() -> Answer:
    doc = "Intro line.\nByteDance ordered [100,000] *chips*. Then more."
    chunk = Chunk("/x/doc.md", 0, len(doc), 1, 2, "Chips", doc)
    start = doc.index("ByteDance")
    end = doc.index(" Then")
    sentence = AnswerSentence(doc[start:end], (1,), char_span=(start, end))
    return Answer("How many?", f"{sentence.text} [1]", (sentence,), (Citation(1, Hit(chunk, 0.9, 0.5, 1)),),
                  False, 1.0)


def test_passage_highlights_the_cited_span_even_after_stripping_controls() -> None:
    text = "A \x1b[2Jwiped. Cited one. Tail."
    start = text.index("Cited")
    out = passage(text, [(start, start + len("Cited one."))])
    assert out.plain == "A wiped. Cited one. Tail."
    (span,) = out.spans
    assert out.plain[span.start:span.end] == "Cited one."


def test_answer_markdown_and_export_keep_citations() -> None:
    answer = _answer()
    assert _rendered_text(answer_markdown(answer)) == "ByteDance ordered [100,000] *chips*. [1]"
    assert "(cite:1)" in answer_markdown(answer, links=True)
    exported = export_markdown([("How many?", answer), ("Cancelled one?", None)])
    assert exported.startswith("# Conversation\n\n## How many?\n")
    assert "- \\[1\\] /x/doc.md:1-2 § Chips" in exported and "  > Intro line. ByteDance" in exported
    assert "## Cancelled one?\n\n*(no answer: cancelled or failed)*" in exported
