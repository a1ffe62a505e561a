"""Plain-text rendering of answers, hits and reports for the terminal.

Document text is never interpreted as markup: a passage with `[brackets]` prints as written.
"""

from __future__ import annotations

import textwrap
from typing import Any

from index.records import BuildReport, Hit
from rag.answer import Answer
from rag.prompts import NEAREST_INTRO

WIDTH = 100


def _quote(text: str, indent: str = "    ", limit: int = 700) -> str:
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[:limit].rsplit(" ", 1)[0] + " …"
    return textwrap.fill(flat, WIDTH, initial_indent=indent + "> ", subsequent_indent=indent + "  ")


def _where(hit: Hit) -> str:
    c = hit.chunk
    return c.location + (f"  § {c.heading}" if c.heading else "")


def answer_text(answer: Answer) -> str:
    lines = [textwrap.fill(answer.text, WIDTH)]
    if answer.abstained:
        lines += ["", NEAREST_INTRO] if answer.citations else []
    else:
        lines += ["", "Sources:"]
    for cit in answer.citations:
        lines.append(f"[{cit.n}] {_where(cit.hit)}")
        lines.append(_quote(cit.hit.chunk.text))
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


def hit_json(hit: Hit, rank: int) -> dict[str, Any]:
    c = hit.chunk
    return {"rank": rank, "key": c.key, "path": c.path, "lines": [c.line_start, c.line_end], "page": c.page,
            "char_span": [c.start, c.end], "heading": c.heading, "text": c.text, "score": hit.score,
            "dense_score": hit.dense_score, "dense_rank": hit.dense_rank,
            "lexical_score": hit.lexical_score, "lexical_rank": hit.lexical_rank}


def report_text(report: BuildReport, verb: str = "Indexed") -> str:
    lines = [f"{verb} {report.files_indexed} file(s) into {report.chunks} chunks in {report.seconds:.1f} s "
             f"({report.chunks_embedded} embedded"
             + (f", {report.files_reused} file(s) unchanged" if report.files_reused else "")
             + (f", {report.files_removed} removed" if report.files_removed else "") + ")."]
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)} file(s):")
        lines += [f"  {s.path}: {s.reason}" for s in report.skipped]
    return "\n".join(lines)


def report_json(report: BuildReport) -> dict[str, Any]:
    return {"files_indexed": report.files_indexed, "chunks": report.chunks,
            "chunks_embedded": report.chunks_embedded, "files_reused": report.files_reused,
            "files_removed": report.files_removed, "seconds": round(report.seconds, 3),
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped]}
