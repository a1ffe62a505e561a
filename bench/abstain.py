"""Abstention offline: score the answers a dump (bench/abstain_dump.py) implies, for any confidence rule.

    python bench/abstain.py                 # the answerer's rule and the sentence-only one, squad_it_dev_heldout
    python bench/abstain.py --set en        # the English set

Each dumped question holds every candidate sentence with the extractive answerer's features, so
the sentence chosen, its confidence, and whether the answer holds the fact with a right citation
can be recomputed here in milliseconds for any rule. Halves as in bench/calibrate.py: articles
even/odd in name order ("tune"/"check"); questions with no article (off topic) alternately.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from common import RESULTS

from index.text.sentences import Sentence
from rag.answerers.confidence import question_confidence
from rag.answerers.extractive import Candidate, choose
from rag.evaluate import normalize

Row = dict[str, Any]


def load(name: str) -> list[Row]:
    rows = [json.loads(line) for line in open(RESULTS / "tmp" / f"dump-{name}.jsonl", encoding="utf-8")]
    names = sorted({r["source"] for r in rows if r.get("source")})
    unsourced = 0
    for r in rows:
        if r.get("source"):
            r["half"] = "tune" if names.index(r["source"]) % 2 == 0 else "check"
        else:
            r["half"] = "tune" if unsourced % 2 == 0 else "check"
            unsourced += 1
        r["candidates"] = [Candidate(c["hit"], Sentence(c["text"], c["start"], c["start"] + len(c["text"])),
                                     c["coverage"], c["similarity"], c["type_ok"], c["passage"],
                                     c["corpus_coverage"], c["passage_coverage"], c.get("cross_lingual", False))
                           for c in r["cands"]]
    return rows


def holds(hit: dict[str, Any], r: Row) -> bool:
    if r.get("source") and hit["path"] != Path(r["source"]).name:
        return False
    text = normalize(hit["text"])
    return any(normalize(e) in text for e in r["evidence_any"])


def outcome(r: Row, chosen: list[Candidate]) -> dict[str, Any]:
    """The answer the chosen sentences make: its text, and whether it holds the fact with a right citation."""
    text = " ".join(f"{c.sentence.text} [{c.hit_index}]" for c in chosen)
    fact = any(normalize(a) in normalize(text) for a in r["answer_any"])
    cited = {c.hit_index for c in chosen}
    return {"chars": len(text), "right": fact and any(holds(r["hits"][i], r) for i in cited)}


Rule = Callable[[Row], tuple[list[Candidate], float]]


def current_rule(r: Row) -> tuple[list[Candidate], float]:
    """The answerer's: `choose` and `question_confidence`."""
    cands = r["candidates"]
    chosen = choose(cands)
    return chosen, question_confidence(cands, [SimpleNamespace(score=h["score"]) for h in r["hits"]], chosen)


def sentence_rule(r: Row) -> tuple[list[Candidate], float]:
    """The rule before the retrieval's signals joined: the best sentence's own confidence."""
    cands = r["candidates"]
    return choose(cands), max((c.confidence for c in cands), default=0.0)


def score(rows: list[Row], rule: Rule, threshold: float) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, list[Any]]] = {}
    for r in rows:
        chosen, conf = rule(r)
        answered = bool(chosen) and conf >= threshold
        for part in ("all", r["half"]):
            t = table.setdefault(part, {"answerable": [], "on_topic": [], "off_topic": [], "chars": []})
            if r["kind"] == "answerable":
                result = outcome(r, chosen) if answered else {"right": False, "chars": 0}
                t["answerable"].append(result["right"])
                if answered:
                    t["chars"].append(result["chars"])
            else:
                t[r["kind"]].append(not answered)
    out = {}
    for part, t in table.items():
        out[part] = {key: round(100 * sum(v) / len(v), 1) for key, v in t.items() if key != "chars" and v}
        out[part]["median_chars"] = statistics.median(t["chars"]) if t["chars"] else 0
    return out


def sweep(rows: list[Row], rule: Rule, thresholds: list[float]) -> list[dict[str, Any]]:
    return [{"threshold": t, **score(rows, rule, t)} for t in thresholds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="heldout")
    args = parser.parse_args()
    rows = load(args.set)
    counts = {kind: sum(r["kind"] == kind for r in rows) for kind in ("answerable", "on_topic", "off_topic")}
    thresholds = [round(1.3 + 0.05 * n, 2) for n in range(12)]
    rules = {"answerer": current_rule, "sentence_only": sentence_rule}
    curves = {name: sweep(rows, rule, thresholds) for name, rule in rules.items()}
    result = {"command": f"python bench/abstain.py --set {args.set}", "questions": counts,
              "curve": curves["answerer"], "curve_sentence_only": curves["sentence_only"]}
    (RESULTS / f"abstention_{args.set}.json").write_text(json.dumps(result, indent=2))
    print(counts)
    for name, curve in curves.items():
        print(f"\n{name}\n| threshold | answerable: fact + citation | on topic abstained | off topic abstained "
              "| median chars | halves (tune / check): right, on topic |\n|---|---|---|---|---|---|")
        for point in curve:
            a, t, c = point["all"], point.get("tune", {}), point.get("check", {})
            print(f"| {point['threshold']} | {a.get('answerable')}% | {a.get('on_topic')}% | {a.get('off_topic')}% "
                  f"| {a['median_chars']} | {t.get('answerable')} / {c.get('answerable')}, "
                  f"{t.get('on_topic')} / {c.get('on_topic')} |")

if __name__ == "__main__":
    main()
