"""Questions in another language than the documents: retrieval and answers, with and without the
multilingual re-rank (index.search.Searcher.search_across), on the same index in one process.

    python bench/crosslingual.py       # bench/data/squad_it_dev_en.jsonl over squad_it_dev_heldout

The English questions (153 answerable, 40 on topic and 38 off topic unanswerable) are asked over the
Italian articles of squad_it_dev_heldout (the on-topic ones are about its missing paragraphs). For each
setting: recall@5 (a retrieved passage of the right file holds the evidence), and at the default
threshold the answerable questions answered with the fact and a right citation, the unanswerable
ones abstained, and the median answer length. Writes bench/results/crosslingual.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import replace

from common import EVAL, RESULTS, ROOT, holds, machine

from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.evaluate import load_questions, score_one

QUESTIONS = ROOT / "bench" / "data" / "squad_it_dev_en.jsonl"
DOCS = EVAL / "squad_it_dev_heldout" / "docs"


def run(assistant: Assistant, questions: list[dict]) -> dict:  # type: ignore[type-arg]
    rows, began = [], time.perf_counter()
    for q in questions:
        answer = assistant.ask(q["question"])
        row = score_one(q, answer, 5)
        row["kind"] = q.get("kind", "answerable")
        row["recall"] = any(holds(h.chunk.path, h.chunk.text, q) for h in answer.retrieved[:5])
        rows.append(row)
    answerable = [r for r in rows if r["kind"] == "answerable"]
    answered = [r for r in answerable if not r["abstained"]]
    out = {"recall_at_5": round(sum(r["recall"] for r in answerable) / len(answerable), 3),
           "fact_and_citation": round(sum(r["fact"] and r["citation"] for r in answerable) / len(answerable), 3),
           "median_chars": statistics.median(len(r["answer"]) for r in answered) if answered else None,
           "seconds_per_question": round((time.perf_counter() - began) / len(rows), 2)}
    for kind in ("on_topic", "off_topic"):
        sub = [r for r in rows if r["kind"] == kind]
        out[f"abstained_{kind}"] = round(sum(r["abstained"] for r in sub) / len(sub), 3) if sub else None
    return out


def main() -> None:
    questions = load_questions(str(QUESTIONS))
    assistant = Assistant(Settings(home=RESULTS / "tmp" / "home-squad_it_dev_heldout"))
    if not assistant.store.exists():
        assistant.build([str(DOCS)])
    result = {"command": "python bench/crosslingual.py", "machine": machine(), "questions": len(questions)}
    for name, multilingual in (("index_model_only", False), ("multilingual_rerank", True)):
        assistant.settings = replace(assistant.settings, multilingual=multilingual)
        result[name] = run(assistant, questions)
        print(name, result[name], file=sys.stderr, flush=True)
    (RESULTS / "crosslingual.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
