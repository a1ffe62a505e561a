"""Plain-text rendering of answers, hits and reports for the terminal.

Document text is never interpreted as markup: a passage with `[brackets]` prints as written.
Every piece of text that did not come from this module goes through `rag.present.terminal`: `safe`
for passages and answers, `safe_line` for one-line fields (paths, headings, reasons, notes).
"""

from __future__ import annotations

import os
import re
import shlex
import textwrap
from typing import Any

from index.records import BuildReport, Hit
from rag.answer import Answer
from rag.present.terminal import safe, safe_line
from rag.prompts import NEAREST_INTRO
from rag.summary import IndexSummary

WIDTH = 100


def _quote(text: str, indent: str = "    ", limit: int = 700, focus: tuple[int, int] | None = None,
           bold: bool = False) -> str:
    """The passage as an indented quote; long ones are cut around `focus` (a span within `text`)."""
    start, end = 0, len(text)
    if end > limit:
        lo = max(0, focus[0] - limit // 3) if focus else 0
        if lo:  # begin at a paragraph or a word, never inside one
            para_start = text.rfind("\n", 0, focus[0] if focus else lo) + 1
            near = para_start and (focus[0] if focus else lo) - para_start <= limit // 2
            lo = para_start if near else text.find(" ", lo) + 1
        start, end = lo, min(len(text), lo + limit)
        if end < len(text):
            end = max(text.rfind(" ", start, end), start + 1)
    paragraphs = [" ".join(safe(p).split()) for p in re.split(r"\n\s*\n", text[start:end]) if p.strip()]
    if start:
        paragraphs[0] = "… " + paragraphs[0]
    if end < len(text):
        paragraphs[-1] += " …"
    cited = " ".join(safe(text[max(focus[0], start):min(focus[1], end)]).split()) if focus and bold else ""
    out = []
    for para in paragraphs:
        wrapped = textwrap.fill(para, WIDTH - len(indent) - 2)
        if cited and cited in para:  # bold after wrapping, so escape codes do not count as width
            words = cited.split()
            wrapped = re.sub(r"\s+".join(map(re.escape, words)), lambda m: f"\x1b[1m{m.group(0)}\x1b[0m", wrapped,
                             count=1)
        out += [indent + "> " + line for line in wrapped.splitlines()]
    return "\n".join(out)


def display_path(path: str) -> str:
    """A path relative to the working directory when it lies below it; absolute otherwise."""
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def _where(hit: Hit, shown: str = "") -> str:
    """`docs/a.md:3-5  § Heading`; `shown` is the path as a citation shows it (rag.freshness), if known."""
    c = hit.chunk
    where = (shown or display_path(c.path)) + c.location[len(c.path):]
    return safe_line(where + (f"  § {' '.join(c.heading.split())}" if c.heading else ""))


MARKS = {"supported": "✓", "partial": "~", "unsupported": "✗"}


def answer_text(answer: Answer, bold: bool = False, streamed: bool = False) -> str:
    """The answer, then each source: `[n] file:lines § heading` and the quoted passage.

    With `bold` (a terminal), the sentence the answer quotes is highlighted inside its passage. A
    generated answer (already shown if `streamed`) is followed by each sentence's support mark.
    """
    lines = [] if streamed else [textwrap.fill(safe(answer.text), WIDTH)]
    if answer.engine != "extractive" and answer.support:
        if not streamed:
            lines.append("")
        lines.append(f"Checked against the sources: {answer.support}"
                     + (" (the answer was cut short)" if answer.incomplete else "") + ":")
        for s in answer.sentences:
            cites = "".join(f" [{n}]" for n in s.citations) or " (no citation)"
            lines.append(textwrap.fill(f"{MARKS.get(s.support, '?')} {s.support:<11} {safe(s.text)}{cites}", WIDTH,
                                       subsequent_indent=" " * 14))
        if answer.abstained and streamed:  # what was shown is not an answer: none of it is supported
            lines += ["", textwrap.fill(f"So: {safe(answer.text)}", WIDTH)]
    elif answer.abstained and streamed and not answer.sentences:  # --strict showed nothing
        lines.append(textwrap.fill(safe(answer.text), WIDTH))
    if answer.abstained:
        lines += ["", NEAREST_INTRO] if answer.citations else []
    else:
        lines += ["", "Sources:"]
    for cit in answer.citations:
        chunk = cit.hit.chunk
        spans = [s.char_span for s in answer.sentences if cit.n in s.citations and s.char_span]
        focus = (spans[0][0] - chunk.start, spans[0][1] - chunk.start) if spans else None
        state = f"  ({cit.source_state})" if cit.source_state else ""
        lines.append(f"[{cit.n}] {_where(cit.hit, cit.shown)}{state}")
        lines.append(_quote(chunk.text, focus=focus, bold=bold))
    return "\n".join(lines)


def hits_text(hits: list[Hit]) -> str:
    if not hits:
        return "No passage matches."
    out = []
    for rank, hit in enumerate(hits, start=1):
        parts = [f"fused {hit.score:.4f}"]
        if hit.dense_rank is not None:
            parts.append(f"dense #{hit.dense_rank} {hit.dense_score:.3f}")
        if hit.lexical_rank is not None:
            parts.append(f"bm25 #{hit.lexical_rank} {hit.lexical_score:.2f}")
        out.append(f"{rank}. {_where(hit)}  ({', '.join(parts)})")
        out.append(_quote(hit.chunk.text, limit=400))
    return "\n".join(out)


def report_text(report: BuildReport, verb: str = "Indexed") -> str:
    lines = [f"{verb} {report.files_indexed} file(s) into {report.chunks} chunks in {report.seconds:.1f} s "
             f"({report.chunks_embedded} embedded"
             + (f", {report.chunks_reused} reused" if report.chunks_reused else "")
             + (f" ({report.chunks_resumed} from an interrupted build)" if report.chunks_resumed else "")
             + (f", {report.files_reused} file(s) unchanged" if report.files_reused else "")
             + (f", {report.files_removed} removed" if report.files_removed else "") + ")."]
    lines += [safe_line(f"Note: {note}") for note in report.notes]
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)} file(s):")
        lines += ["  " + safe_line(f"{s.path}: {s.reason}") for s in report.skipped]
    return "\n".join(lines)


def report_json(report: BuildReport) -> dict[str, Any]:
    return {"files_indexed": report.files_indexed, "chunks": report.chunks,
            "chunks_embedded": report.chunks_embedded, "chunks_reused": report.chunks_reused,
            "chunks_resumed": report.chunks_resumed, "notes": list(report.notes), "files_reused": report.files_reused,
            "files_removed": report.files_removed, "seconds": round(report.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped]}


def summary_text(summary: IndexSummary) -> str:
    """`rag index info`: where the index is, what it holds and how it was built."""
    lines = [
        f"Index:     {safe_line(summary.location)}",
        f"Sources:   {_paths(summary.sources)}",
        f"Documents: {summary.files} ({safe_line(', '.join(summary.languages)) or 'language unknown'})",
        f"Chunks:    {summary.chunks} (size {summary.chunk_size} tokens, overlap {summary.chunk_overlap})",
        f"Model:     {safe_line(summary.model)} ({summary.dim} dims)",
        f"On disk:   {summary.size_bytes / 1024:.1f} KiB",
        f"Built:     {safe_line(summary.built_at)} in {summary.build_seconds:.1f} s",
    ]
    for doc in summary.documents[:20]:
        lines.append(f"  {safe_line(doc.path)}  {doc.chunks} chunks, {safe_line(doc.lang)}")
    if len(summary.documents) > 20:
        lines.append(f"  … and {len(summary.documents) - 20} more (see --json)")
    if summary.skipped:
        lines.append(f"Skipped at the last build: {len(summary.skipped)} file(s)")
    return "\n".join(lines)


def damaged_text(location: str, sources: list[str]) -> str:
    """`rag index info` on an index that cannot be opened: where it is and what to rebuild it from."""
    return "\n".join([f"Index:     {safe_line(location)} (damaged)",
                      f"Sources:   {_paths(sources) or 'not recorded'}"])


def _paths(paths: Any) -> str:
    """Paths on one line, each made safe, then quoted as a shell would need them."""
    return " ".join(shlex.quote(safe_line(p)) for p in paths)
