"""Speed against the peer: build throughput, update, warm latency, cold start and peak memory.

    python bench/speed.py                 # about 15 min on 2 cores
    python bench/speed.py --repeats 1 --queries 50 --cold 2   # a quick look

Everything runs in one process on the same machine, against the LangChain recipe (bench/recipe.py),
on shared/eval/squad_it_dev/docs (and seeds/ for cold start). Runs of ours and the recipe are
interleaved, so that load from other processes falls on both; figures are medians.

- build: a full build from scratch with the model already loaded, ours (Assistant.build) and the
  recipe (load + split + FAISS.from_documents), `--repeats` times each. Chunk counts differ (ours
  are 254 word pieces, the recipe's 1,000 characters), so chunks/s, word pieces/s and seconds are
  all reported. Word pieces are counted as the model reads them (at most 256 a chunk).
- update: after a build, a paragraph is appended to one of the 20 files and `Assistant.update`
  timed, as a share of the median full build: the file of median size (`--repeats` times) and the
  largest file (once).
- warm latency: `--queries` sampled questions; ours retrieval (embed + hybrid search, k=4), ours
  ask (retrieval + extractive answer) and the recipe's similarity_search(k=4); p50 and p95.
- cold start: `rag ask` in a fresh process on the seed index, and `python bench/recipe.py ask` on
  the recipe's saved seed index, `--cold` runs each; with `import torch` and `import
  sentence_transformers` alone for scale. Peak RSS of each process from /usr/bin/time. The cold
  answer (NumPy forward pass) is compared with the torch path's answer in this process.
- build as a process: `rag index build` and `python bench/recipe.py build` on squad_it_dev once
  each, for wall time including the model load and for peak RSS.

Writes bench/results/speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import recipe
from common import RESULTS, ROOT, SEEDS, SQUAD_DOCS, SQUAD_QUESTIONS, machine, sample

from rag.assistant import Assistant
from rag.config.settings import Settings
from rag.evaluate import load_questions

PY = sys.executable
RAG = str(Path(sys.executable).parent / "rag")
COLD_QUESTION = "Quanti chip Ascend 910B ha ordinato ByteDance?"


def median(values: list[float]) -> float:
    return statistics.median(values)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class StageClock:
    """A Builder progress factory that notes when each stage starts and when its last step ends."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.marks: dict[str, list[float]] = {}

    def __call__(self, label: str, total: int) -> Callable[[int], None]:
        now = time.perf_counter()
        self.marks[label] = [now, now]

        def advance(n: int) -> None:
            self.marks[label][1] = time.perf_counter()
        return advance

    def seconds(self, label: str) -> float | None:
        mark = self.marks.get(label)
        return round(mark[1] - mark[0], 2) if mark else None


def build_runs(tmp: Path, repeats: int) -> dict[str, Any]:
    first = Assistant(Settings(home=tmp / "warm"))
    embedder = first.embedder
    embedder.embed(["warm up"])
    emb = recipe.embeddings()
    emb.embed_query("warm up")
    ours_s, peer_s, ours_stages, peer_split = [], [], [], []
    report = None
    store = None
    for i in range(repeats):
        clock = StageClock()
        assistant = Assistant(Settings(home=tmp / f"build{i}"), embedder=embedder, progress=clock)
        began = time.perf_counter()
        report = assistant.build([str(SQUAD_DOCS)])
        ours_s.append(time.perf_counter() - began)
        ours_stages.append({"reading_and_chunking": clock.seconds("reading"), "embedding": clock.seconds("embedding")})
        began = time.perf_counter()
        chunks = recipe.split(str(SQUAD_DOCS))
        peer_split.append(time.perf_counter() - began)
        from langchain_community.vectorstores import FAISS

        store = FAISS.from_documents(chunks, emb)
        peer_s.append(time.perf_counter() - began)
        print(f"build {i + 1}/{repeats}: ours {ours_s[-1]:.1f} s, recipe {peer_s[-1]:.1f} s", file=sys.stderr)
    assert report is not None and store is not None
    ours_chunks = assistant.store.open().chunks(list(range(report.chunks)))
    ours_pieces = sum(min(embedder.count_tokens(c.text) + 2, 256) for c in ours_chunks)
    peer_texts = [store.docstore.search(store.index_to_docstore_id[i]).page_content for i in range(store.index.ntotal)]
    peer_raw = [embedder.count_tokens(t) + 2 for t in peer_texts]
    peer_pieces = sum(min(n, 256) for n in peer_raw)
    ours_med, peer_med = median(ours_s), median(peer_s)
    result = {
        "ours": {"chunks": report.chunks, "seconds_median": round(ours_med, 2), "seconds_runs": [round(s, 2)
                 for s in ours_s], "chunks_per_s": round(report.chunks / ours_med, 2),
                 "word_pieces_per_s": round(ours_pieces / ours_med, 1), "word_pieces": ours_pieces,
                 "stages_runs": ours_stages},
        "recipe": {"chunks": store.index.ntotal, "seconds_median": round(peer_med, 2),
                   "seconds_runs": [round(s, 2) for s in peer_s],
                   "chunks_per_s": round(store.index.ntotal / peer_med, 2),
                   "word_pieces_per_s": round(peer_pieces / peer_med, 1), "word_pieces": peer_pieces,
                   "split_seconds_median": round(median(peer_split), 2),
                   "chunks_truncated_by_model": sum(n > 256 for n in peer_raw),
                   "word_pieces_before_truncation": sum(peer_raw)},
    }
    result["ratio_chunks_per_s"] = round(result["ours"]["chunks_per_s"] / result["recipe"]["chunks_per_s"], 3)
    result["ratio_word_pieces_per_s"] = round(result["ours"]["word_pieces_per_s"]
                                              / result["recipe"]["word_pieces_per_s"], 3)
    result["ratio_seconds"] = round(ours_med / peer_med, 3)
    return {"build": result, "_assistant": assistant, "_store": store, "_embedder": embedder, "_emb": emb}


def update_runs(tmp: Path, embedder, full_build_s: float, repeats: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Append a paragraph to one file and update: the file of median size `repeats` times, the largest once."""
    docs = tmp / "docs_copy"
    shutil.copytree(SQUAD_DOCS, docs)
    assistant = Assistant(Settings(home=tmp / "update"), embedder=embedder)
    assistant.build([str(docs)])
    files = sorted(assistant.store.open().files(), key=lambda f: (f.n_chunks, f.path))
    result: dict[str, Any] = {"full_build_seconds_median": round(full_build_s, 2)}
    for label, record, times in (("median_file", files[len(files) // 2], repeats), ("largest_file", files[-1], 1)):
        target = Path(record.path)
        runs, embedded, unchanged = [], [], []
        for i in range(times):
            before = {c.text for c in assistant.store.open().chunks(assistant.store.open().chunk_ids_for(record.path))}
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"\n\nParagrafo aggiunto per la prova di aggiornamento numero {i + 1}.\n")
            began = time.perf_counter()
            report = assistant.update()
            runs.append(time.perf_counter() - began)
            embedded.append(report.chunks_embedded)
            after = assistant.store.open().chunks(assistant.store.open().chunk_ids_for(record.path))
            unchanged.append(sum(c.text in before for c in after))
        result[label] = {
            "file": target.name, "file_chunks": record.n_chunks, "seconds_median": round(median(runs), 3),
            "seconds_runs": [round(s, 3) for s in runs], "chunks_embedded": embedded,
            # Chunks of the changed file whose text is the same as before: their vectors could be reused.
            "chunks_with_unchanged_text": unchanged,
            "share_of_full_build": round(median(runs) / full_build_s, 4)}
    result["share_of_full_build"] = result["median_file"]["share_of_full_build"]
    return result


def latency_runs(assistant: Assistant, store, emb, n: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    questions = [q["question"] for q in sample(load_questions(str(SQUAD_QUESTIONS)), n, seed=11)]
    for q in questions[:10]:  # warm up both (caches, lazy loads)
        assistant.search(q, 4)
        assistant.ask(q)
        recipe.search(store, q)
    times: dict[str, list[float]] = {"ours_retrieval": [], "ours_ask": [], "recipe_similarity_search": [],
                                     "ours_embed_query": [], "recipe_embed_query": []}
    ask_parts: dict[str, list[float]] = {"retrieval": [], "answer": []}
    for q in questions:
        calls: list[tuple[str, Callable[[str], Any]]] = [
            ("recipe_similarity_search", lambda text: recipe.search(store, text)),
            ("ours_retrieval", lambda text: assistant.search(text, 4)),
            ("ours_ask", assistant.ask),
            ("recipe_embed_query", emb.embed_query),
            ("ours_embed_query", assistant.searcher.embed_query)]
        for name, call in calls:
            began = time.perf_counter()
            out = call(q)
            times[name].append(time.perf_counter() - began)
            if name == "ours_ask":
                for part in ask_parts:
                    ask_parts[part].append(out.timings.get(part, 0.0))
    result: dict[str, Any] = {"queries": len(questions)}
    for name, values in {**times, **{f"ours_ask_{k}": v for k, v in ask_parts.items()}}.items():
        result[name] = {"p50_ms": ms(median(values)), "p95_ms": ms(pct(values, 95))}
    base = result["recipe_similarity_search"]
    for name in ("ours_retrieval", "ours_ask"):
        result[f"ratio_{name}"] = {p: round(result[name][p] / base[p], 3) for p in ("p50_ms", "p95_ms")}
    return result


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MiB and exit code of a fresh process.

    The peak comes from /usr/bin/time, not from wait4 here: a child forked from this (large)
    process starts with our peak RSS as its own, and Linux keeps it across exec.
    """
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        began = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], stdout=out,
                              stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            out.seek(0)
            print(f"{' '.join(cmd)} exited {proc.returncode}: {out.read()[-800:]!r}", file=sys.stderr)
        peak_kib = int(rss.read().strip().splitlines()[-1])
    return wall, round(peak_kib / 1024), proc.returncode


def process_runs(tmp: Path, cold: int) -> dict[str, Any]:
    env = {**os.environ, "RAG_HOME": str(tmp / "cold_home"), "HF_HUB_OFFLINE": "1"}
    peer_seed = str(tmp / "recipe_seed")
    result: dict[str, Any] = {}
    # Builds as processes: wall time including the model load, and peak memory.
    for name, cmd in (("ours_build_squad", [RAG, "index", "build", str(SQUAD_DOCS), "-q"]),
                      ("recipe_build_squad", [PY, "bench/recipe.py", "build", str(SQUAD_DOCS), str(tmp / "recipe_sq")]),
                      ("ours_build_seed", [RAG, "index", "build", str(SEEDS), "-q"]),
                      ("recipe_build_seed", [PY, "bench/recipe.py", "build", str(SEEDS), peer_seed])):
        wall, rss, rc = run_measured(cmd, env)
        result[name] = {"wall_s": round(wall, 2), "peak_rss_mib": rss, "exit": rc}
        print(f"{name}: {wall:.1f} s, {rss} MiB", file=sys.stderr)
    commands = {
        "ours_rag_ask": [RAG, "ask", COLD_QUESTION],
        "recipe_ask": [PY, "bench/recipe.py", "ask", peer_seed, COLD_QUESTION],
        "python_import_torch": [PY, "-c", "import torch"],
        "python_import_sentence_transformers": [PY, "-c", "import sentence_transformers"],
        "ours_rag_help": [RAG, "--help"],
    }
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for cmd in commands.values():  # once each to warm the page cache; not counted
        run_measured(cmd, env)
    for _ in range(cold):
        for name, cmd in commands.items():
            wall, rss, _rc = run_measured(cmd, env)
            runs[name].append((wall, rss))
    for name, values in runs.items():
        result[name] = {"wall_s_median": round(median([w for w, _ in values]), 2),
                        "wall_s_runs": [round(w, 2) for w, _ in values],
                        "peak_rss_mib_median": round(median([r for _, r in values]))}
    result["question"] = COLD_QUESTION
    result["cold_answer_same_as_torch_path"] = same_answer_as_torch(tmp / "cold_home", env)
    result["ratio_cold_start"] = round(result["ours_rag_ask"]["wall_s_median"]
                                       / result["recipe_ask"]["wall_s_median"], 3)
    result["ratio_ask_rss"] = round(result["ours_rag_ask"]["peak_rss_mib_median"]
                                    / result["recipe_ask"]["peak_rss_mib_median"], 3)
    result["ratio_build_rss"] = round(result["ours_build_squad"]["peak_rss_mib"]
                                      / result["recipe_build_squad"]["peak_rss_mib"], 3)
    return result


def same_answer_as_torch(home: Path, env: dict[str, str]) -> bool:
    """Whether the cold `rag ask` (NumPy forward pass, no torch) prints what the torch path answers."""
    from index.embed import SentenceTransformerEmbedder

    proc = subprocess.run([RAG, "ask", "--json", COLD_QUESTION], capture_output=True, text=True, env=env, cwd=ROOT)
    cold = json.loads(proc.stdout)
    warm = Assistant(Settings(home=home), embedder=SentenceTransformerEmbedder(numpy_max_texts=0)).ask(COLD_QUESTION)
    same = bool(cold["answer"] == warm.text and abs(cold["confidence"] - warm.confidence) < 2e-4)  # JSON rounds to 4
    print(f"cold answer same as the torch path: {same}", file=sys.stderr)
    return same


SECTIONS = ("build", "update", "latency", "process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="full builds and updates of each system")
    parser.add_argument("--queries", type=int, default=200, help="questions for warm latency")
    parser.add_argument("--cold", type=int, default=5, help="fresh-process runs of each cold command")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="run only these (comma-separated); the others are kept from an existing --out")
    parser.add_argument("--out", default=str(RESULTS / "speed.json"))
    args = parser.parse_args()
    sections = [name for name in args.sections.split(",") if name]
    if set(sections) - set(SECTIONS):
        parser.error(f"--sections takes some of {','.join(SECTIONS)}")
    command = "python bench/speed.py" + "".join(
        f" --{name} {getattr(args, name)}" for name, default in (("repeats", 3), ("queries", 200), ("cold", 5),
                                                                  ("sections", ",".join(SECTIONS)))
        if getattr(args, name) != default)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = json.loads(out.read_text()) if out.exists() and len(sections) < len(SECTIONS) else {}
    for section in SECTIONS:  # sections kept from an earlier run keep the command that measured them
        if isinstance(result.get(section), dict):
            result[section].setdefault("command", result.get("command"))
    result.update({"command": command, "machine": machine()})

    def save(section: str) -> None:  # after each section, so a failure later keeps what was measured
        result[section]["command"] = command
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(json.dumps(result[section], indent=1), file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if {"build", "update", "latency"} & set(sections):
            # Without the build section, one unrecorded build of each gives the indexes to query.
            built = build_runs(tmp, args.repeats if "build" in sections else 1)
            if "build" in sections or "build" not in result:
                result["build"] = built["build"]
                save("build")
        if "update" in sections:
            full = result["build"]["ours"]["seconds_median"]
            result["update"] = update_runs(tmp, built["_embedder"], full, args.repeats)
            save("update")
        if "latency" in sections:
            result["latency"] = latency_runs(built["_assistant"], built["_store"], built["_emb"], args.queries)
            save("latency")
        if "process" in sections:
            result["process"] = process_runs(tmp, args.cold)
            save("process")


if __name__ == "__main__":
    main()
