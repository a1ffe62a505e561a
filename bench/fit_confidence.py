"""Fit the weights of the question's confidence (rag/answerers/confidence.py) and check them across halves.

    python bench/abstain_dump.py --set heldout   # once: every question's candidates (about 20 min)
    python bench/fit_confidence.py               # seconds

A logistic regression predicts "answered with the fact and a right citation" (answerable questions
the quoted sentences get right) against "should have abstained" (both kinds of unanswerable question)
from the best sentence's confidence and three signals of the retrieval: flatness, lead, best cosine.
The weights are printed in units of the sentence confidence (its coefficient divided out), fitted on
each half of the articles (halves as in bench/abstain.py). Each fit is then checked on the *other*
half: at the thresholds where 70% and 85% of that half's on-topic questions are abstained, the share
of its answerable questions answered right, with the sentence confidence alone and with the fitted
rule, and with the rounded weights the answerer uses. Needs scikit-learn (`pip install scikit-learn`).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
from abstain import Row, load, outcome
from common import RESULTS

from rag.answerers import confidence
from rag.answerers.extractive import choose

FEATURES = ("sentence", "flat", "lead", "similarity")


def features(r: Row) -> list[float]:
    """The four inputs of `confidence.question_confidence`, recomputed from a dumped question."""
    if not r["candidates"]:
        return [0.0, 1.0, 0.0, 0.0]
    hits = [SimpleNamespace(score=h["score"]) for h in r["hits"]]
    return list(confidence.signals(r["candidates"], hits, choose(r["candidates"]))[:4])  # type: ignore[arg-type]


def right_at(scores: np.ndarray, on_topic: np.ndarray, answerable: np.ndarray, right: np.ndarray,
             share: float) -> float:
    """% of answerable answered right at the threshold abstaining on `share` of the on-topic questions."""
    cut = np.quantile(scores[on_topic], share)
    return round(100 * float((right[answerable] & (scores[answerable] > cut)).mean()), 1)


def main() -> None:
    import argparse

    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="heldout", help="which dump: bench/results/tmp/dump-SET.jsonl")
    args = parser.parse_args()
    rows = load(args.set)
    x = np.array([features(r) for r in rows])
    kind = np.array([r["kind"] for r in rows])
    half = np.array([r["half"] for r in rows])
    right = np.array([r["kind"] == "answerable" and outcome(r, choose(r["candidates"]))["right"] for r in rows])
    rounded = np.array([1.0, -confidence.FLAT_WEIGHT, confidence.LEAD_WEIGHT, confidence.BEST_SIMILARITY_WEIGHT])
    result: dict[str, object] = {"command": f"python bench/fit_confidence.py --set {args.set}", "features": FEATURES}
    for fit_on, check_on in (("tune", "check"), ("check", "tune")):
        train = (half == fit_on) & ((kind != "answerable") | right)  # wrong answers to answerable: neither
        model = LogisticRegression(C=1.0, max_iter=5000).fit(x[train], right[train])
        weights = model.coef_[0] / model.coef_[0][0]
        checked = half == check_on
        on, ans = checked & (kind == "on_topic"), checked & (kind == "answerable")
        rules = {"sentence_only": x[:, 0], "fitted": x @ weights, "rounded (the answerer's)": x @ rounded}
        result[f"fit on {fit_on}"] = {
            "weights": dict(zip(FEATURES, weights.round(3).tolist(), strict=True)),
            f"checked on {check_on}": {name: {f"right at {int(100 * s)}% on topic abstained":
                                              right_at(score, on, ans, right, s) for s in (0.7, 0.85)}
                                       for name, score in rules.items()}}
    (RESULTS / "fit_confidence.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
