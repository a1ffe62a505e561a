"""Reproduce the abstention threshold in rag/answerers/confidence.py.

    python bench/calibrate.py [--answerable N] [--unanswerable N]   # default: every question

Builds a throw-away index of shared/eval/squad_it_dev/docs with the default settings, asks its
questions (or a seeded sample), and prints the confidence percentiles of the unanswerable ones and,
for a few thresholds, the share of answerable questions answered with the fact and a right
citation, for all of them and for each half: the articles are split even/odd in name order (the
unanswerable questions by their line in the file), so that what a threshold does on the tuning
half can be checked on the other. Then it checks the seed set against the chosen threshold.
Results go to bench/results/calibration.json.

The 90th percentile of 150 confidences (one half's unanswerable questions) is their 15th highest,
and it moves when a few of them do: each table gives its bootstrap 95% interval
(`p90_interval`). The threshold is taken between the 90th and 94th percentiles of all 300.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answerers.confidence import DEFAULT_THRESHOLD  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config.settings import Settings  # noqa: E402
from rag.evaluate import load_questions, score_one  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"


def run(assistant: Assistant, questions: list[dict]) -> list[dict]:
    rows = []
    for q in questions:
        answer = assistant.ask(q["question"])
        row = score_one(q, answer, assistant.settings.top_k)
        row["confidence"] = answer.confidence
        rows.append(row)
    return rows


def table(rows: list[dict]) -> dict:
    """Percentiles of the unanswerable questions' confidence, and the shares at a few thresholds."""
    unans = np.array([r["confidence"] for r in rows if r["unanswerable"]])
    ans = [r for r in rows if not r["unanswerable"]]
    result: dict = {"answerable": len(ans), "unanswerable": len(unans), "percentiles_unanswerable": {},
                    "thresholds": []}
    for q in (80, 85, 90, 92, 94, 95):
        result["percentiles_unanswerable"][q] = round(float(np.percentile(unans, q)), 4)
    rng = np.random.default_rng(5)
    p90s = np.percentile(rng.choice(unans, (2000, len(unans))), 90, axis=1)
    result["p90_interval"] = [round(float(x), 4) for x in np.percentile(p90s, [2.5, 97.5])]
    for t in sorted({round(DEFAULT_THRESHOLD + step, 2) for step in (-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15)}):
        answered = [r for r in ans if r["confidence"] >= t]
        result["thresholds"].append({
            "threshold": t,
            "unanswerable_abstained": round(float(np.mean(unans < t)), 4),
            "answerable_fact_and_citation": round(sum(r["fact"] and r["citation"] for r in answered) / len(ans), 4),
            "answerable_answered": round(len(answered) / len(ans), 4),
            "median_answer_chars": float(np.median([len(r["answer"]) for r in answered])) if answered else None,
        })
    return result


def split(questions: list[dict]) -> dict[str, str]:
    """Question id -> "tune" or "check": by article (even/odd in name order); unanswerable ones (no
    article) by their line in the file, even or odd."""
    articles = sorted({q["source"] for q in questions if q.get("source")})
    return {q["id"]: "tune" if (line if q.get("unanswerable") else articles.index(q["source"])) % 2 == 0 else "check"
            for line, q in enumerate(questions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answerable", type=int, default=None, help="a seeded sample of N (default: all 3,037)")
    parser.add_argument("--unanswerable", type=int, default=None, help="a seeded sample of N (default: all 300)")
    args = parser.parse_args()
    questions = load_questions(str(EVAL / "squad_it_dev" / "questions.jsonl"))
    halves = split(questions)
    rng = random.Random(5)
    ans = [q for q in questions if not q.get("unanswerable")]
    unans = [q for q in questions if q.get("unanswerable")]
    sample = (rng.sample(ans, min(args.answerable or len(ans), len(ans)))
              + rng.sample(unans, min(args.unanswerable or len(unans), len(unans))))
    with tempfile.TemporaryDirectory() as home:
        # min_confidence=-1 answers everything, so every question's confidence is seen.
        squad = Assistant(Settings(home=Path(home) / "squad", min_confidence=-1.0))
        squad.build([str(EVAL / "squad_it_dev" / "docs")])
        rows = run(squad, sample)
        seed = Assistant(Settings(home=Path(home) / "seed", min_confidence=-1.0), embedder=squad.embedder)
        seed.ensure_index()
        seed_rows = run(seed, load_questions(str(EVAL / "seed_dev.jsonl")))
    result: dict = {"default": DEFAULT_THRESHOLD, **table(rows),
                    "halves": {h: table([r for r in rows if halves[r["id"]] == h]) for h in ("tune", "check")}}
    result["seed"] = [{"id": r["id"], "unanswerable": r["unanswerable"], "confidence": round(r["confidence"], 4),
                       "ok": (r["confidence"] < DEFAULT_THRESHOLD) if r["unanswerable"]
                       else bool(r["fact"] and r["citation"] and r["confidence"] >= DEFAULT_THRESHOLD)}
                      for r in seed_rows]
    out = ROOT / "bench" / "results" / "calibration.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
