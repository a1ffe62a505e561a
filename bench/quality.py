"""Quality against the peer: retrieval recall@4 with an ablation, and extractive answers by threshold.

    python bench/quality.py                # the full sets (about 30 min on 2 quiet cores)
    python bench/quality.py --answers 600  # recall on all; answers for 600 answerable + all unanswerable
    python bench/quality.py --limit 300    # a seeded sample of everything, for a quick look

Builds, in a temporary folder, our index of shared/eval/squad_it_dev/docs with the default
Settings and the LangChain recipe (bench/recipe.py) on the same files, then asks every question:

- recall@4: one of the 4 passages comes from the question's `source` file and contains one of its
  `evidence_any` (case-insensitive after NFKC and whitespace normalisation). For the recipe
  (similarity_search k=4) and for our Searcher dense only, lexical only and fused (hybrid, the
  default). Our dense and lexical lists are taken 50 deep once, so the score combination can also be
  swept offline over its dense weight (`fusion_sweep`). The sweep is of the combination alone:
  the hybrid search then adds the file prior and the sentence rerank (index/search.py), so its
  recall at the default weight is the Assistant's `hybrid` figure less what those two add.
- answers: each question is asked once with min_confidence=-1 (nothing abstains) and its
  `confidence` kept; the figures for any threshold are then computed offline with
  rag.evaluate.score_one, as bench/calibrate.py does.

The same on seed_dev.jsonl over seeds/. Writes bench/results/quality.json,
bench/results/threshold_curve.png and, per question, bench/results/rows/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import recipe
from common import RESULTS, SEED_QUESTIONS, SEEDS, SQUAD_DOCS, SQUAD_QUESTIONS, holds, machine, sample

from index.search import DENSE_WEIGHT
from rag.answerers.confidence import DEFAULT_THRESHOLD
from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.evaluate import load_questions, score_one

K = 4
DEPTH = 50  # as Searcher.search takes from each retriever
THRESHOLDS = [round(t, 3) for t in np.arange(1.2, 1.951, 0.05)]
WEIGHTS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0]


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], weight: float) -> list[str]:
    """Searcher.search's fusion, offline: weight * cosine + (1 - weight) * BM25 / best BM25."""
    best = lexical[0][1] if lexical else 1.0
    fused: dict[str, float] = {}
    order: dict[str, int] = {}
    for key, score in dense:
        fused[key] = fused.get(key, 0.0) + weight * max(score, 0.0)
        order.setdefault(key, len(order))
    for key, score in lexical:
        fused[key] = fused.get(key, 0.0) + (1 - weight) * score / best
        order.setdefault(key, len(order))
    return sorted(fused, key=lambda key: -fused[key])[:K]


def ask_all(assistant: Assistant, store, questions: list[dict[str, Any]], asked: set[str],  # type: ignore[no-untyped-def]
            label: str) -> list[dict[str, Any]]:
    """Retrieval for every question; an extractive answer for those whose id is in `asked`."""
    searcher = assistant.searcher
    top_k = assistant.settings.top_k
    rows = []
    began = time.perf_counter()
    for n, q in enumerate(questions, start=1):
        text = q["question"]
        row: dict[str, Any] = {"id": q["id"], "unanswerable": bool(q.get("unanswerable"))}
        if q["id"] in asked:
            answer = assistant.ask(text)
            scored = score_one(q, answer, K)
            row.update({key: scored[key] for key in ("abstained", "fact", "citation", "answer") if key in scored})
            row["confidence"] = answer.confidence
        if not q.get("unanswerable"):
            vector = searcher.embed_query(text)
            dense = searcher.search(text, DEPTH, "dense", query_vector=vector)
            lexical = searcher.search(text, DEPTH, "lexical")
            hybrid = searcher.search(text, max(K, top_k), "hybrid", query_vector=vector)
            peer = recipe.search(store, text)
            good: dict[str, bool] = {}
            for hit in dense + lexical:
                good[f"{hit.chunk.path}:{hit.chunk.start}"] = holds(hit.chunk.path, hit.chunk.text, q)
            dense_keys = [(f"{h.chunk.path}:{h.chunk.start}", float(h.dense_score or 0.0)) for h in dense]
            lexical_keys = [(f"{h.chunk.path}:{h.chunk.start}", float(h.lexical_score or 0.0)) for h in lexical]
            row["recall"] = {
                "recipe": any(holds(d.metadata["source"], d.page_content, q) for d in peer),
                "dense": any(good[key] for key, _ in dense_keys[:K]),
                "lexical": any(good[key] for key, _ in lexical_keys[:K]),
                "hybrid": any(holds(h.chunk.path, h.chunk.text, q) for h in hybrid[:K]),
                "hybrid_at_top_k": any(holds(h.chunk.path, h.chunk.text, q) for h in hybrid[:top_k]),
            }
            row["sweep"] = {str(w): any(good[key] for key in fuse(dense_keys, lexical_keys, w)) for w in WEIGHTS}
        rows.append(row)
        if n % 100 == 0 or n == len(questions):
            rate = n / (time.perf_counter() - began)
            print(f"{label}: {n}/{len(questions)} questions, {rate:.1f}/s", file=sys.stderr, flush=True)
    return rows


def share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def at_threshold(rows: list[dict[str, Any]], t: float) -> dict[str, Any]:
    rows = [r for r in rows if "confidence" in r]
    ans = [r for r in rows if not r["unanswerable"]]
    unans = [r for r in rows if r["unanswerable"]]
    answered = [r for r in ans if r["confidence"] >= t]
    return {
        "threshold": t,
        "unanswerable_abstained": share([r["confidence"] < t for r in unans]),
        "answerable_fact_and_citation": share([r["confidence"] >= t and r["fact"] and r["citation"] for r in ans]),
        "answerable_fact": share([r["confidence"] >= t and r["fact"] for r in ans]),
        "answerable_answered": share([r["confidence"] >= t for r in ans]),
        "median_answer_chars": statistics.median(len(r["answer"]) for r in answered) if answered else None,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if not r["unanswerable"]]
    recall = {name: share([r["recall"][name] for r in ans]) for name in ans[0]["recall"]} if ans else {}
    sweep = {w: share([r["sweep"][w] for r in ans]) for w in ans[0]["sweep"]} if ans else {}
    asked = [r for r in rows if "confidence" in r]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(rows) - len(ans),
        "asked_for_answers": {"answerable": sum(not r["unanswerable"] for r in asked),
                              "unanswerable": sum(r["unanswerable"] for r in asked)},
        f"recall_at_{K}": recall,
        "fusion_sweep": {"dense_weight_default": DENSE_WEIGHT, f"recall_at_{K}": sweep},
        "answers_at_default": at_threshold(rows, DEFAULT_THRESHOLD),
        "answers_by_threshold": [at_threshold(rows, t) for t in sorted({*THRESHOLDS, DEFAULT_THRESHOLD})],
    }


def plot(curve: list[dict[str, Any]], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = [p["threshold"] for p in curve]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(ts, [p["unanswerable_abstained"] for p in curve], "o-", label="unanswerable: abstained")
    left.plot(ts, [p["answerable_fact_and_citation"] for p in curve], "s-",
              label="answerable: fact + right citation")
    left.plot(ts, [p["answerable_answered"] for p in curve], "^--", alpha=0.6, label="answerable: answered")
    left.axvline(DEFAULT_THRESHOLD, color="grey", ls=":", label=f"default {DEFAULT_THRESHOLD}")
    left.axhline(0.9, color="C0", lw=0.8, ls="--", alpha=0.5)
    left.axhline(0.6, color="C1", lw=0.8, ls="--", alpha=0.5)
    left.set_xlabel("min_confidence (abstain below)")
    left.set_ylabel("share")
    left.set_ylim(0, 1.02)
    left.legend(fontsize=8, loc="lower left")
    left.grid(alpha=0.3)
    x = [p["unanswerable_abstained"] for p in curve]
    y = [p["answerable_fact_and_citation"] for p in curve]
    right.plot(x, y, "o-")
    for p in curve:
        right.annotate(f"{p['threshold']:g}", (p["unanswerable_abstained"], p["answerable_fact_and_citation"]),
                       fontsize=7, xytext=(3, 3), textcoords="offset points")
    default = next(p for p in curve if p["threshold"] == DEFAULT_THRESHOLD)
    right.plot([default["unanswerable_abstained"]], [default["answerable_fact_and_citation"]], "r*", ms=14,
               label=f"default {DEFAULT_THRESHOLD}")
    right.axvspan(0.9, 1.0, ymin=0.6, ymax=1.0, color="green", alpha=0.08, label="target (>=0.9, >=0.6)")
    right.set_xlabel("unanswerable questions abstained")
    right.set_ylabel("answerable: fact + right citation")
    right.set_xlim(min(x + [0.5]) - 0.02, 1.01)
    right.set_ylim(0, 1.0)
    right.legend(fontsize=8, loc="lower left")
    right.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def plot_result(result: dict[str, Any], out: Path) -> None:
    s = result["squad_it_dev"]
    plot(s["answers_by_threshold"], out.parent / "threshold_curve.png",
         f"squad_it_dev answers: {s['asked_for_answers']['answerable']} answerable, "
         f"{s['asked_for_answers']['unanswerable']} unanswerable questions ({result['command']})")


def seed_report(rows: list[dict[str, Any]], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {q["id"]: q for q in questions}
    out = []
    for r in rows:
        conf = r["confidence"]
        ok = conf < DEFAULT_THRESHOLD if r["unanswerable"] else bool(r["fact"] and r["citation"]
                                                                         and conf >= DEFAULT_THRESHOLD)
        item = {"id": r["id"], "question": by_id[r["id"]]["question"], "unanswerable": r["unanswerable"],
                "confidence": round(conf, 4), "ok_at_default": ok, "answer_chars": len(r["answer"])}
        if not r["unanswerable"]:
            item["recall_at_4"] = r["recall"]
        out.append(item)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N squad_it_dev questions")
    parser.add_argument("--answers", type=int, default=None,
                        help="ask for answers only a seeded sample of N answerable questions, and every "
                             "unanswerable one (retrieval is still measured on all)")
    parser.add_argument("--out", default=str(RESULTS / "quality.json"))
    parser.add_argument("--plot-only", action="store_true", help="redraw the curve from an existing --out")
    args = parser.parse_args()
    if args.plot_only:
        result = json.loads(Path(args.out).read_text())
        plot_result(result, Path(args.out))
        return
    questions = sample(load_questions(str(SQUAD_QUESTIONS)), args.limit)
    seed_questions = load_questions(str(SEED_QUESTIONS))
    asked = {q["id"] for q in questions if q.get("unanswerable")} | {q["id"] for q in sample(
        [q for q in questions if not q.get("unanswerable")], args.answers, seed=5)}
    command = "python bench/quality.py" + "".join(f" --{name} {getattr(args, name)}" for name in ("limit", "answers")
                                                  if getattr(args, name))
    result: dict[str, Any] = {"command": command,
                              "machine": machine(), "k": K, "default_threshold": DEFAULT_THRESHOLD}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # min_confidence=-1 answers everything, so each question's confidence is seen once.
        ours = Assistant(Settings(home=home / "squad", min_confidence=-1.0))
        began = time.perf_counter()
        report = ours.build([str(SQUAD_DOCS)])
        ours_build = time.perf_counter() - began
        emb = recipe.embeddings()
        began = time.perf_counter()
        store = recipe.build(str(SQUAD_DOCS), emb)
        recipe_build = time.perf_counter() - began
        result["index"] = {"ours": {"chunks": report.chunks, "seconds": round(ours_build, 1),
                                    "chunk_size_tokens": ours.settings.chunk_size, "top_k": ours.settings.top_k},
                           "recipe": {"chunks": store.index.ntotal, "seconds": round(recipe_build, 1),
                                      "chunk_size_chars": recipe.CHUNK_SIZE}}
        rows = ask_all(ours, store, questions, asked, "squad_it_dev")
        seed = Assistant(Settings(home=home / "seed", min_confidence=-1.0), embedder=ours.embedder)
        seed.build([str(SEEDS)])
        seed_store = recipe.build(str(SEEDS), emb)
        seed_rows = ask_all(seed, seed_store, seed_questions, {q["id"] for q in seed_questions}, "seed_dev")
    result["squad_it_dev"] = summarise(rows)
    result["seed_dev"] = summarise(seed_rows)
    result["seed_dev"]["questions_detail"] = seed_report(seed_rows, seed_questions)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / "rows").mkdir(exist_ok=True)
    for name, items in (("squad_it_dev", rows), ("seed_dev", seed_rows)):
        with open(out.parent / "rows" / f"quality_{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in items)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    plot_result(result, out)
    print(json.dumps({k: v for k, v in result.items() if k != "seed_dev"}, indent=2, ensure_ascii=False)[:6000])


if __name__ == "__main__":
    main()
