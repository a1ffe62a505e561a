"""The records of an answer, and their one JSON form.

`passage_json` is the one shape of a retrieved passage everywhere it leaves the process: in
`rag ask --json` and `rag search --json`, in `rag eval` rows, in the server's `citations` and in
the LangChain adapter's metadata. A citation is that shape with its number `n`, a search hit with
its `rank`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.records import Hit

__all__ = ["Answer", "AnswerSentence", "Citation", "Hit", "passage_json"]


@dataclass(frozen=True)
class Citation:
    """Source `[n]` of an answer: a retrieved passage."""

    n: int
    hit: Hit
    source_state: str = ""  # "", "changed since indexed" or "deleted": the file since it was indexed (rag.freshness)
    shown: str = ""  # the path as shown, relative to the folder above its source (index.ingest.sources.shown)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, **passage_json(self.hit), "source_state": self.source_state or "current"}


def passage_json(hit: Hit) -> dict[str, Any]:
    """A retrieved passage: where it is (path, lines, page, characters, heading), its text and its scores."""
    c = hit.chunk
    return {
        "key": c.key, "path": c.path, "lines": [c.line_start, c.line_end], "page": c.page,
        "char_span": [c.start, c.end], "heading": c.heading, "quote": c.text,
        "scores": {"fused": round(hit.score, 6), "dense": _r(hit.dense_score), "dense_rank": hit.dense_rank,
                   "lexical": _r(hit.lexical_score), "lexical_rank": hit.lexical_rank},
    }


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, the citations it carries and how well they back it."""

    text: str
    citations: tuple[int, ...]
    support: str = "quoted"  # extractive: a verbatim quote; generated: supported, partial or unsupported
    char_span: tuple[int, int] | None = None  # where the quote sits in the cited document

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations), "support": self.support,
                "char_span": list(self.char_span) if self.char_span else None}


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]  # for an abstention: the nearest passages
    abstained: bool
    confidence: float
    engine: str = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    retrieved: tuple[Hit, ...] = ()  # every passage retrieved, cited or not (for evaluation; not in JSON)
    incomplete: bool = False  # the engine's stream was cut; the text is what arrived
    model: str = ""
    support: str = ""  # generated answers: "3 of 4 sentences supported"

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "answer": self.text, "abstained": self.abstained,
            "confidence": round(self.confidence, 4), "engine": self.engine, "model": self.model,
            "incomplete": self.incomplete, "support": self.support,
            "sentences": [s.to_json() for s in self.sentences],
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v * 1000, 1) for k, v in self.timings.items()},
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
