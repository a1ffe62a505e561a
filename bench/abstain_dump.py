"""Dump every candidate sentence of every question, with its features, for offline work on abstention.

    python bench/abstain_dump.py                      # squad_it_dev_heldout: all 3,074 questions
    python bench/abstain_dump.py --set en             # the English set (bench/data/squad_it_dev_en.jsonl)
    python bench/abstain_dump.py --set full           # squad_it_dev: 3,037 answerable + 300 off topic

Builds (once, kept in bench/results/tmp/) the index of the set's documents with the default settings,
then asks each question as `rag ask` would (the multilingual re-rank for a question in another
language) and writes one JSON line per question: its kind, the retrieved passages and every
candidate with the extractive answerer's features. `bench/abstain.py` reads the dump to fit and
check the abstention.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from common import EVAL, RESULTS, ROOT

from rag.answerers import extractive
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.evaluate import load_questions

SETS = {
    "heldout": (EVAL / "squad_it_dev_heldout" / "docs", EVAL / "squad_it_dev_heldout" / "questions.jsonl"),
    "full": (EVAL / "squad_it_dev" / "docs", EVAL / "squad_it_dev" / "questions.jsonl"),
    "en": (EVAL / "squad_it_dev_heldout" / "docs", ROOT / "bench" / "data" / "squad_it_dev_en.jsonl"),
    "seed": (ROOT / "seeds", EVAL / "seed_dev.jsonl"),
}


def kind(q: dict[str, Any]) -> str:
    if not q.get("unanswerable"):
        return "answerable"
    return str(q.get("kind") or "off_topic")


def dump_one(assistant: Assistant, q: dict[str, Any]) -> dict[str, Any]:
    question = q["question"]
    r = assistant.retrieve(question)  # as `rag ask`: the multilingual re-rank for another language
    hits = r.hits
    # As in the product, sentences are embedded only while one could still win: the best sentence and
    # the confidence are exact; a sentence never embedded keeps its similarity bound (1.0).
    cands = extractive.candidates(question, hits, r.corpus, r.vector, r.embed, r.translate)
    return {
        "id": q["id"], "kind": kind(q), "question": question, "source": q.get("source"),
        "answer_any": q.get("answer_any", []), "evidence_any": q.get("evidence_any") or q.get("answer_any", []),
        "hits": [{"path": Path(h.chunk.path).name, "text": h.chunk.text, "heading": h.chunk.heading,
                  "lang": h.chunk.lang, "score": h.score, "start": h.chunk.start} for h in hits],
        "cands": [{"hit": c.hit_index, "text": c.sentence.text, "start": c.sentence.start,
                   "coverage": c.coverage, "similarity": c.similarity, "type_ok": c.type_ok, "passage": c.passage,
                   "corpus_coverage": c.corpus_coverage, "passage_coverage": c.passage_coverage,
                   "cross_lingual": c.cross_lingual}
                  for c in cands],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--suffix", default="", help="added to the dump's file name")
    parser.add_argument("--answerable", type=int, default=0,
                        help="a seeded sample of N answerable questions (every unanswerable one is kept)")
    args = parser.parse_args()
    docs, questions_file = SETS[args.set]
    home = RESULTS / "tmp" / f"home-{docs.parent.name}"
    assistant = Assistant(Settings(home=home))
    if not assistant.store.exists():
        assistant.build([str(docs)])
    questions = load_questions(str(questions_file))
    if args.answerable:
        rng = random.Random(11)
        answerable = [q for q in questions if not q.get("unanswerable")]
        keep = {q["id"] for q in rng.sample(answerable, min(args.answerable, len(answerable)))}
        questions = [q for q in questions if q.get("unanswerable") or q["id"] in keep]
    random.Random(3).shuffle(questions)  # every kind from the start, so a partial dump is a fair sample
    if args.limit:
        questions = questions[: args.limit]
    out = RESULTS / "tmp" / f"dump-{args.set}{args.suffix}.jsonl"
    began = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh:
        for n, q in enumerate(questions, start=1):
            fh.write(json.dumps(dump_one(assistant, q), ensure_ascii=False) + "\n")
            if n % 200 == 0:
                print(f"{n}/{len(questions)} {n / (time.perf_counter() - began):.1f}/s", file=sys.stderr, flush=True)
    print(out)


if __name__ == "__main__":
    main()
