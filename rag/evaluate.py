"""`rag eval`: score answers against a question set in the format of `shared/eval/`.

Matching follows the eval README: case-insensitive, after Unicode NFKC and whitespace
normalisation. A citation is right when a cited passage contains the evidence (and, when the
question names a `source`, comes from that file).
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from pathlib import Path
from typing import IO, Any

from index.builder import ProgressFactory
from index.errors import SourceError
from index.records import Hit
from rag.answer import Answer


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def load_questions(path: str) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise SourceError(f"{path}:{number}: each line needs a \"question\" string")
        if not item.get("unanswerable") and not item.get("answer_any"):
            raise SourceError(f"{path}:{number}: an answerable question needs \"answer_any\"")
        item.setdefault("id", str(number))
        questions.append(item)
    if not questions:
        raise SourceError(f"{path}: no questions")
    return questions


def _evidence(q: dict[str, Any]) -> list[str]:
    ev = q.get("evidence_any") or ([q["evidence"]] if q.get("evidence") else q.get("answer_any", []))
    return [normalize(e) for e in ev]


def _holds(hit: Hit, q: dict[str, Any]) -> bool:
    source = q.get("source")
    if source and Path(hit.chunk.path).name != Path(source).name:
        return False
    text = normalize(hit.chunk.text)
    return any(e in text for e in _evidence(q))


def score_one(q: dict[str, Any], answer: Answer, k: int) -> dict[str, Any]:
    row: dict[str, Any] = {"id": q["id"], "answer": answer.text, "abstained": answer.abstained,
                           "unanswerable": bool(q.get("unanswerable")),
                           "citations": [c.to_json() for c in answer.citations]}
    if not row["unanswerable"]:
        text = normalize(answer.text)
        row["fact"] = not answer.abstained and any(normalize(a) in text for a in q["answer_any"])
        row["citation"] = not answer.abstained and any(_holds(c.hit, q) for c in answer.citations)
        row["retrieved"] = any(_holds(h, q) for h in answer.retrieved[:k])
    return row


class RowsFile:
    """The file of one JSON line per question, opened before the run so that a path that cannot be
    written fails at once. An existing file is replaced only when the rows are written; a file this
    run created is removed again if the run fails."""

    def __init__(self, path: str) -> None:
        self.path, self.existed = Path(path), Path(path).exists()
        try:
            self._fh: IO[str] = open(path, "a", encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"cannot write {path} ({exc.strerror or exc}); nothing was run") from None

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def __enter__(self) -> RowsFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self._fh.close()
        if kind is not None and not self.existed:
            self.path.unlink(missing_ok=True)


def evaluate(assistant, questions: list[dict[str, Any]], out: RowsFile | None = None,  # type: ignore[no-untyped-def]
             progress: ProgressFactory | None = None) -> dict[str, Any]:
    """Ask every question and score the answers; `out` gets one JSON line per question."""
    k = assistant.settings.top_k
    advance = progress("questions", len(questions)) if progress else (lambda n: None)
    rows, latencies = [], []
    for q in questions:
        began = time.perf_counter()
        answer = assistant.ask(q["question"])
        latencies.append(time.perf_counter() - began)
        rows.append(score_one(q, answer, k))
        advance(1)
    if out is not None:
        out.write(rows)
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    answered = [r for r in answerable if not r["abstained"]]

    def share(items: list[Any], key: str) -> float | None:
        return round(sum(bool(r[key]) for r in items) / len(items), 4) if items else None

    lat = sorted(latencies)
    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "answered_with_fact": share(answerable, "fact"),
        "citation_correct": share(answerable, "citation"),
        "fact_and_citation": round(sum(r["fact"] and r["citation"] for r in answerable) / len(answerable), 4)
        if answerable else None,
        "abstained_when_unanswerable": share(unanswerable, "abstained"),
        "abstained_when_answerable": share(answerable, "abstained"),
        f"recall_at_{k}": share(answerable, "retrieved"),
        "median_answer_chars": statistics.median(len(r["answer"]) for r in answered) if answered else None,
        "latency_ms": {"p50": round(lat[len(lat) // 2] * 1000, 1),
                       "p95": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000, 1)},
    }


def summary_text(result: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    recall = next(key for key in result if key.startswith("recall_at_"))
    return "\n".join([
        f"Questions: {result['questions']} ({result['answerable']} answerable, "
        f"{result['unanswerable']} unanswerable)",
        f"Answered with the expected fact:       {pct(result['answered_with_fact'])}",
        f"Citation correct:                      {pct(result['citation_correct'])}",
        f"Fact and citation both right:          {pct(result['fact_and_citation'])}",
        f"Abstained on unanswerable:             {pct(result['abstained_when_unanswerable'])}",
        f"Abstained on answerable (missed):      {pct(result['abstained_when_answerable'])}",
        f"Evidence retrieved ({recall.replace('recall_at_', 'recall@')}):           {pct(result[recall])}",
        f"Median answer length:                  {result['median_answer_chars']} chars",
        f"Latency per question:                  p50 {result['latency_ms']['p50']} ms, "
        f"p95 {result['latency_ms']['p95']} ms",
    ])
