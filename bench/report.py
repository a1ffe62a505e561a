"""Print the tables of BENCHMARKS.md from bench/results/quality.json and speed.json (Markdown).

    python bench/report.py

Only formatting: every figure comes from the JSON files that quality.py and speed.py write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def quality(q: dict[str, Any]) -> str:
    out = []
    for name in ("squad_it_dev", "seed_dev"):
        s = q[name]
        r = s["recall_at_4"]
        out.append(f"#### {name}: recall@4 ({s['answerable']} answerable questions)\n")
        rows = [["LangChain recipe (1,000-char chunks, dense, k=4)", pct(r["recipe"]), "1.00x"],
                ["ours, dense only", pct(r["dense"]), ratio(r["dense"], r["recipe"])],
                ["ours, lexical only (BM25 on stems)", pct(r["lexical"]), ratio(r["lexical"], r["recipe"])],
                ["**ours, hybrid (default)**", f"**{pct(r['hybrid'])}**", ratio(r["hybrid"], r["recipe"])],
                ["ours, hybrid, top 5 (what the answerer reads)", pct(r["hybrid_at_top_k"]),
                 ratio(r["hybrid_at_top_k"], r["recipe"])]]
        out.append(table(["retriever", "recall@4", "vs recipe"], rows))
        sweep = s["fusion_sweep"]
        default = str(sweep["dense_weight_default"])
        out.append(f"\n#### {name}: fusion sweep, recall@4 by dense weight (default {default})\n")
        weights = list(sweep["recall_at_4"])
        out.append(table(["dense weight", *[f"**{w}**" if w == default else w for w in weights]],
                         [["recall@4", *[pct(sweep["recall_at_4"][w]) for w in weights]]]))
        out.append(f"\n#### {name}: extractive answers by threshold (default {q['default_threshold']})\n")
        rows = []
        for p in s["answers_by_threshold"]:
            mark = "**" if p["threshold"] == q["default_threshold"] else ""
            chars = p["median_answer_chars"]
            rows.append([f"{mark}{p['threshold']:.2f}{mark}", pct(p["unanswerable_abstained"]),
                         pct(p["answerable_fact_and_citation"]), pct(p["answerable_fact"]),
                         pct(p["answerable_answered"]), "n/a" if chars is None else f"{chars:.0f}"])
        out.append(table(["min_confidence", "unanswerable abstained", "answerable: fact + right citation",
                          "answerable: fact", "answerable: answered", "median answer chars"], rows))
        out.append("")
    detail = q["seed_dev"].get("questions_detail", [])
    if detail:
        out.append("#### seed_dev, per question at the default threshold\n")
        out.append(table(["id", "question", "unanswerable", "confidence", "right at default"],
                         [[d["id"], d["question"], d["unanswerable"], d["confidence"],
                           "yes" if d["ok_at_default"] else "**no**"] for d in detail]))
    return "\n".join(out)


def speed(s: dict[str, Any]) -> str:
    out = []
    if not all(name in s for name in ("build", "update", "latency")):
        return "(speed.json lacks sections; rerun bench/speed.py)"
    b = s["build"]
    rows = []
    for name, label in (("recipe", "LangChain recipe"), ("ours", "ours")):
        x = b[name]
        rows.append([label, x["chunks"], x["word_pieces"], x["seconds_median"], x["chunks_per_s"],
                     x["word_pieces_per_s"]])
    rows.append(["ours / recipe", "", "", f"{b['ratio_seconds']:.2f}x", f"{b['ratio_chunks_per_s']:.2f}x",
                 f"{b['ratio_word_pieces_per_s']:.2f}x"])
    out.append("#### Build (model loaded, median of runs)\n")
    out.append(table(["system", "chunks", "word pieces embedded", "seconds", "chunks/s", "word pieces/s"], rows))
    stages = b["ours"].get("stages_runs") or []
    if stages:
        out.append(f"\nOur stages (runs): {stages}; the recipe's load + split took "
                   f"{b['recipe']['split_seconds_median']} s; {b['recipe']['chunks_truncated_by_model']} of its "
                   f"{b['recipe']['chunks']} chunks are longer than the model's 256 word pieces and are truncated.")
    u = s["update"]
    out.append("\n#### `rag index update` after appending a paragraph to one file\n")
    rows = []
    for name, label in (("median_file", "file of median size"), ("largest_file", "largest file")):
        x = u[name]
        rows.append([f"{label}: {x['file']}", x["file_chunks"], x["seconds_median"], x["seconds_runs"],
                     x["chunks_embedded"], x["chunks_with_unchanged_text"], u["full_build_seconds_median"],
                     pct(x["share_of_full_build"])])
    out.append(table(["changed file", "its chunks", "update s (median)", "runs", "chunks re-embedded",
                      "of which text unchanged", "full build s", "share of full build"], rows))
    lat = s["latency"]
    out.append(f"\n#### Warm query latency ({lat['queries']} questions)\n")
    rows = []
    base = lat["recipe_similarity_search"]
    for name, label in (("recipe_similarity_search", "recipe: similarity_search(k=4)"),
                        ("ours_retrieval", "ours: retrieval (embed + hybrid, k=4)"),
                        ("ours_ask", "ours: retrieval + extractive answer"),
                        ("ours_ask_retrieval", "  of which retrieval"),
                        ("ours_ask_answer", "  of which answer"),
                        ("recipe_embed_query", "recipe: embed_query alone"),
                        ("ours_embed_query", "ours: embed query alone")):
        x = lat[name]
        rows.append([label, x["p50_ms"], x["p95_ms"], ratio(x["p50_ms"], base["p50_ms"]),
                     ratio(x["p95_ms"], base["p95_ms"])])
    out.append(table(["", "p50 ms", "p95 ms", "p50 vs recipe", "p95 vs recipe"], rows))
    if "process" not in s:
        return "\n".join(out)
    p = s["process"]
    out.append(f"\n#### Cold start and memory (fresh processes, median of runs; question: \"{p['question']}\")\n")
    rows = []
    for name, label in (("recipe_ask", "`python bench/recipe.py ask` (load FAISS + model, search)"),
                        ("ours_rag_ask", "`rag ask` (seed index)"),
                        ("python_import_torch", "`python -c 'import torch'`"),
                        ("python_import_sentence_transformers", "`python -c 'import sentence_transformers'`"),
                        ("ours_rag_help", "`rag --help`")):
        x = p[name]
        rows.append([label, x["wall_s_median"], x["wall_s_runs"], x["peak_rss_mib_median"]])
    out.append(table(["command", "wall s", "runs", "peak RSS MiB"], rows))
    if "cold_answer_same_as_torch_path" in p:
        same = "yes" if p["cold_answer_same_as_torch_path"] else "NO"
        out.append(f"\nThe cold `rag ask` (NumPy forward pass, no torch import) printed the same answer and "
                   f"confidence as the torch path in the benchmark process: {same}.")
    out.append("")
    rows = [[label, p[name]["wall_s"], p[name]["peak_rss_mib"]] for name, label in (
        ("recipe_build_squad", "`python bench/recipe.py build` squad_it_dev"),
        ("ours_build_squad", "`rag index build` squad_it_dev"),
        ("recipe_build_seed", "`python bench/recipe.py build` seeds/"),
        ("ours_build_seed", "`rag index build` seeds/"))]
    out.append(table(["build as a process (one run, model load included)", "wall s", "peak RSS MiB"], rows))
    return "\n".join(out)


def main() -> None:
    for name, render in (("quality.json", quality), ("speed.json", speed)):
        path = RESULTS / name
        if path.exists():
            data = json.loads(path.read_text())
            print(f"<!-- {name}: {data['command']} -->\n")
            print(render(data))
            print()


if __name__ == "__main__":
    main()
