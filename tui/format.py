"""Pure text shaping for the chat: Markdown for answers and exports, rich `Text` for passages.

Text from documents is never parsed as markup: in Markdown every punctuation mark it holds is
backslash-escaped, and passages are `rich.text.Text`, so a `[` or `*` in a document shows as written.
Escape sequences and control characters are stripped (`rag.present.terminal.safe`). Nothing here imports Textual.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text

from rag.answer import Answer, Hit
from rag.present.render import display_path
from rag.present.terminal import SafeStream, safe
from rag.prompts import NEAREST_INTRO, REFUSAL

CITE_SCHEME = "cite:"  # href of a citation link inside an answer: cite:N
HIGHLIGHT = "bold black on yellow"
_INLINE = re.compile(r"([\\`*_\[\]<>|~$])")  # marks that act anywhere in a line
_LEADING = re.compile(r"^([#>+\-=]|\d+[.)])")  # marks that act at the start of a block
_ENTITY = re.compile(r"&(?=#?\w+;)")
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark: each one may be escaped


def escape_md(text: str) -> str:
    """Plain text as Markdown that renders exactly as written, on one line, and stays readable raw."""
    out = _ENTITY.sub(r"\\&", _INLINE.sub(r"\\\1", " ".join(safe(text).split())))
    return _LEADING.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], out)


def escape_stream(piece: str) -> str:
    """A piece of streamed model text as Markdown that renders as written wherever the stream was cut.

    `escape_md` needs the whole line (a `1` then `. x` is a list; `&` then `amp;` an entity), so a
    piece escapes every ASCII punctuation mark instead, which CommonMark always renders literally,
    and turns each run of whitespace (newlines too) into one space: the text stays one paragraph.
    The checked answer replaces it when the stream ends."""
    return _PUNCT.sub(r"\\\1", re.sub(r"\s+", " ", safe(piece)))


class StreamEscaper:
    """`escape_stream` for the consecutive pieces of one answer: the answer starts with no space, and
    a space ending one piece is not doubled by the next (whitespace collapses across the cut too)."""

    def __init__(self) -> None:
        self._space = True
        self._safe = SafeStream()  # an escape sequence cut between two pieces is held back until whole

    def __call__(self, piece: str) -> str:
        text = escape_stream(self._safe(piece))
        if self._space:
            text = text.lstrip(" ")
        if text:
            self._space = text.endswith(" ")
        return text


def cite_link(n: int) -> str:
    """A clickable `[n]` in an answer; the chat selects source n when it is clicked."""
    return f"[\\[{n}\\]]({CITE_SCHEME}{n})"


def answer_fragments(answer: Answer) -> list[str]:
    """The answer as Markdown fragments, one per sentence, in the order a stream would deliver them."""
    if answer.abstained:
        return [escape_md(answer.text or REFUSAL)]
    out = []
    for i, sentence in enumerate(answer.sentences):
        cites = " ".join(cite_link(n) for n in sentence.citations)
        out.append(("" if i == 0 else " ") + escape_md(sentence.text) + (" " + cites if cites else ""))
    return out or [escape_md(answer.text)]


def where(hit: Hit, shown: str = "") -> str:
    """`seeds/file.txt:13-19 § Heading`: the file as its citation shows it (`shown`, relative to the folder
    above its source), else relative to the working directory; then lines or page."""
    c = hit.chunk
    text = (shown or display_path(c.path)) + c.location[len(c.path):]
    return safe(text + (f"  § {c.heading}" if c.heading else ""))


def scores(hit: Hit) -> str:
    parts = [f"fused {hit.score:.3f}"]
    if hit.dense_rank is not None and hit.dense_score is not None:
        parts.append(f"dense #{hit.dense_rank} {hit.dense_score:.3f}")
    if hit.lexical_rank is not None and hit.lexical_score is not None:
        parts.append(f"bm25 #{hit.lexical_rank} {hit.lexical_score:.2f}")
    return " · ".join(parts)


def cited_spans(answer: Answer, n: int) -> list[tuple[int, int]]:
    """Spans, relative to source n's passage, of the answer sentences that cite it."""
    cit = next((c for c in answer.citations if c.n == n), None)
    if cit is None:
        return []
    start, end = cit.hit.chunk.start, cit.hit.chunk.end
    return [(max(a, start) - start, min(b, end) - start) for s in answer.sentences
            if n in s.citations and s.char_span for a, b in [s.char_span] if a < end and b > start]


def passage(text: str, spans: Sequence[tuple[int, int]] = ()) -> Text:
    """The passage as plain text with the cited spans highlighted (made safe piece by piece, so that
    stripping control characters cannot shift a highlight)."""
    out, at = Text(), 0
    for a, b in sorted(spans):
        if a < at:
            continue
        out.append(safe(text[at:a]))
        out.append(safe(text[a:b]), style=HIGHLIGHT)
        at = b
    out.append(safe(text[at:]))
    return out


def answer_markdown(answer: Answer, links: bool = False) -> str:
    """One answer in Markdown, its `[n]` as links (in the app) or plain (in an export)."""
    if links:
        return "".join(answer_fragments(answer))
    if answer.abstained:
        return escape_md(answer.text)
    return " ".join(escape_md(s.text) + "".join(f" \\[{n}\\]" for n in s.citations) for s in answer.sentences)


def sources_markdown(answer: Answer) -> str:
    head = NEAREST_INTRO if answer.abstained else "Sources:"
    lines = [head, ""]
    for cit in answer.citations:
        lines.append(f"- \\[{cit.n}\\] " + escape_md(where(cit.hit)))
        lines.append("")
        lines.append("  > " + escape_md(cit.hit.chunk.text))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_markdown(turns: Sequence[tuple[str, Answer | None]], title: str = "Conversation") -> str:
    """The conversation as a Markdown document, each answer followed by its sources."""
    parts = [f"# {title}", ""]
    for question, answer in turns:
        parts += [f"## {escape_md(question)}", ""]
        if answer is None:
            parts += ["*(no answer: cancelled or failed)*", ""]
            continue
        parts += [answer_markdown(answer), ""]
        if answer.citations:
            parts += [sources_markdown(answer)]
    return "\n".join(parts).rstrip() + "\n"
