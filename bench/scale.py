"""Scale: query latency, memory, build time and ANN recall at 10k, 100k and 1M chunks.

    python bench/scale.py                                   # about 15 min on 2 cores, 6 GB of disk in --work
    python bench/scale.py --sizes 10000,100000 --queries 100   # a quick look

The smallest point is the real squad_it_dev index (1,384 chunks, real vectors, built with the real
model). Each larger size is a real index generation written through `IndexStore.write` (SQLite chunk
store, vectors.npy, dense.faiss chosen by `index.dense.build_dense`, bm25s) over synthetic chunks:

- text: words drawn independently from the unigram distribution of the real corpus (Zipfian, its
  16k-word vocabulary), chunk lengths drawn from the real chunks; terms are those words stemmed
  by `index.text.language.terms`. The vocabulary does not grow with size as a real corpus's would, so
  posting lists are longer than real ones: pessimistic for BM25 latency.
- vectors: a Gaussian mixture around the real chunk vectors, unit-normalised: a real vector plus
  noise with the covariance of the real vectors (scale `--noise`). Not uniform on the sphere, which
  is IVF's worst case and unlike real embeddings.

The real chunks (text, terms and vectors) are the first rows of every size, and the queries are real
squad_it_dev questions embedded by the real model. Each size is built in a child process and measured
in another, so sizes do not pollute each other's memory: hybrid retrieval through the real
`Searcher` (embedding, dense, BM25, fusion, fetching chunks) and each stage alone, p50/p95 after a
warm-up; steady RSS after the queries; recall@10 of the approximate index against exact search
(IndexFlatIP over the same vectors), and of the IVF that would be built at sizes under the switch.

Writes bench/results/scale.json and bench/results/scale.png.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, ROOT, SQUAD_DOCS, SQUAD_QUESTIONS, machine, sample

PY = sys.executable
REAL_CHUNKS_PER_FILE = 20  # synthetic chunks are grouped into files of this many


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def stats_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values) * 1000, 2), "p95_ms": round(pct(values, 95) * 1000, 2)}


def dense_latency(index: Any, queries: np.ndarray) -> dict[str, float]:
    """p50/p95 of one-query dense searches (depth 50, as the Searcher asks) over the first 100 queries."""
    from index.dense import search_dense

    times = []
    for q in queries[:100]:
        t0 = time.perf_counter()
        search_dense(index, q, 50)
        times.append(time.perf_counter() - t0)
    return stats_ms(times)


def rss_mib() -> dict[str, float]:
    """Current and peak resident memory of this process, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


def real_index(work: Path) -> Path:
    """The real squad_it_dev index, built once with the real model and kept in `work`."""
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    assistant = Assistant(Settings(home=work / "real_home"))
    if not assistant.store.exists():
        began = time.perf_counter()
        assistant.build([str(SQUAD_DOCS)])
        (work / "real_build.json").write_text(json.dumps({"build_s": round(time.perf_counter() - began, 2)}))
    return assistant.settings.index_root


# ---- child: build one synthetic size ----

def synthesize(real_root: Path, n: int, noise: float, seed: int = 0) -> tuple[Any, list, list, list, np.ndarray, dict]:
    from index.records import Chunk, Document
    from index.store import IndexMeta, IndexStore
    from index.text.language import terms, words

    real = IndexStore(real_root).open()
    n_real = real.meta.n_chunks
    real_chunks = real.chunks(list(range(n_real)))
    real_terms = real.terms()
    real_vecs = np.asarray(real.vectors(), dtype=np.float32)
    lang = real.meta.languages[0] if real.meta.languages else "it"
    counts = Counter(w for c in real_chunks for w in words(c.text))
    vocab = [w for w, _ in counts.most_common()]
    freq = np.array([counts[w] for w in vocab], dtype=np.float64)
    stems = [(terms(w, lang) or [""])[0] for w in vocab]  # "" for a stopword; words are stemmed one by one
    lengths = np.array([len(words(c.text)) for c in real_chunks])
    rng = np.random.default_rng(seed)
    n_syn = max(0, n - n_real)
    sizes = rng.choice(lengths, size=n_syn)
    chunks, term_lists = list(real_chunks[:n]), [list(t) for t in real_terms[:n]]
    cum = np.cumsum(freq / freq.sum())
    docs: dict[str, int] = Counter(c.path for c in chunks)
    for j, size in enumerate(sizes):
        ids = np.searchsorted(cum, rng.random(int(size)))
        ids = np.minimum(ids, len(vocab) - 1)
        text = " ".join([vocab[i] for i in ids])
        path = f"synthetic/doc{j // REAL_CHUNKS_PER_FILE:06d}.txt"
        docs[path] += 1
        chunks.append(Chunk(path, 0, len(text), 1, 1, "", text, lang))
        term_lists.append([s for s in (stems[i] for i in ids) if s])
    # Vectors: a real vector plus noise shaped like the real vectors' spread, normalised.
    cov = np.cov(real_vecs, rowvar=False) + 1e-6 * np.eye(real_vecs.shape[1])
    shape = np.linalg.cholesky(cov).astype(np.float32)
    vectors = np.empty((n, real_vecs.shape[1]), dtype=np.float32)
    vectors[:min(n, n_real)] = real_vecs[:n]
    cos_to_center: list[float] = []
    for start in range(n_real, n, 100_000):
        stop = min(n, start + 100_000)
        centers = real_vecs[rng.integers(0, n_real, stop - start)]
        block = centers + noise * rng.standard_normal((stop - start, shape.shape[0]), dtype=np.float32) @ shape.T
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[start:stop] = block
        cos_to_center.append(float(np.mean(np.sum(block * centers, axis=1))))
    first = {c.path: c for c in reversed(chunks)}
    documents = [(Document(p, "", "txt", "0" * 64, first[p].end, 0.0, lang), k) for p, k in docs.items()]
    meta = IndexMeta(**{**real.meta.__dict__, "sources": ["synthetic"], "n_chunks": n, "n_files": len(docs),
                        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "skipped": []})
    info = {"real_chunks": min(n, n_real), "vocabulary": len(vocab),
            "mean_cos_to_center": round(float(np.mean(cos_to_center)), 3) if cos_to_center else None,
            "mean_terms_per_chunk": round(float(np.mean([len(t) for t in term_lists])), 1)}
    real.close()
    return meta, documents, chunks, term_lists, vectors, info


def child_build(real_root: Path, root: Path, n: int, noise: float) -> dict[str, Any]:
    import index.dense
    import index.lexical
    from index.store import IndexStore

    began = time.perf_counter()
    meta, documents, chunks, term_lists, vectors, info = synthesize(real_root, n, noise)
    synth_s = time.perf_counter() - began
    stages: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            stages[name] = round(time.perf_counter() - t0, 2)
            return out
        return wrapper

    # IndexStore.write imports these at call time, so the wrappers time its own calls.
    index.dense.build_dense = timed("dense_s", index.dense.build_dense)  # type: ignore[method-assign]
    index.lexical.LexicalIndex.build = timed("lexical_s", index.lexical.LexicalIndex.build)  # type: ignore[method-assign]
    began = time.perf_counter()
    folder = IndexStore(root).write(meta, documents, chunks, term_lists, vectors)
    write_s = time.perf_counter() - began
    disk = {p.name: round(p.stat().st_size / 2**20, 1) for p in folder.iterdir() if p.is_file()}
    disk["lexical"] = round(sum(p.stat().st_size for p in (folder / "lexical").rglob("*")) / 2**20, 1)
    return {"n": n, "synthesize_s": round(synth_s, 2), "build_s": round(write_s, 2), "build_stages": stages,
            "build_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "disk_mib": disk, **info}


# ---- child: measure one index ----

def ann_curve(index: Any, queries: np.ndarray, truth: np.ndarray, nprobes: list[int]) -> list[dict[str, Any]]:
    rows = []
    saved = index.nprobe
    for nprobe in nprobes:
        index.nprobe = nprobe
        _, ids = index.search(queries, 10)
        rows.append({"nprobe": nprobe, "recall_at_10": recall(ids, truth), **dense_latency(index, queries)})
    index.nprobe = saved
    return rows


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return round(float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])), 4)


def child_measure(root: Path, n_queries: int, k: int) -> dict[str, Any]:
    import faiss

    from index.dense import build_dense, search_dense
    from index.embed import SentenceTransformerEmbedder
    from index.search import Searcher
    from index.store import IndexStore
    from rag.evaluate import load_questions

    questions = [q["question"] for q in sample(load_questions(str(SQUAD_QUESTIONS)), n_queries + 20, seed=11)]
    warm, questions = questions[:20], questions[20:]
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    memory = {"model_loaded": rss_mib()}
    began = time.perf_counter()
    generation = IndexStore(root).open()
    memory["generation_open"] = rss_mib()
    searcher = Searcher(generation, embedder)
    open_s = time.perf_counter() - began
    memory["searcher_open"] = rss_mib()
    for q in warm:
        searcher.search(q, k)
    times: dict[str, list[float]] = {"total": [], "embed": [], "dense": [], "lexical": [], "search_given_vector": []}
    vectors = []
    for q in questions:
        t0 = time.perf_counter()
        searcher.search(q, k)
        t1 = time.perf_counter()
        v = searcher.embed_query(q)
        t2 = time.perf_counter()
        search_dense(searcher._dense, v, 50)
        t3 = time.perf_counter()
        searcher.lexical.search(searcher.lexical.query(q, searcher.langs), 50)
        t4 = time.perf_counter()
        searcher.search(q, k, query_vector=v)
        t5 = time.perf_counter()
        for name, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            times[name].append(seconds)
        vectors.append(v)
    memory["steady_after_queries"] = rss_mib()
    load = os.getloadavg()[0]  # other processes on the machine: timings under load are slower
    dense = searcher._dense
    result: dict[str, Any] = {
        "n": generation.meta.n_chunks, "queries": len(questions), "k": k, "open_s": round(open_s, 2),
        "index_type": type(dense).__name__, "nlist": getattr(dense, "nlist", None),
        "nprobe": getattr(dense, "nprobe", None),
        "latency": {name: stats_ms(values) for name, values in times.items()}, "memory_mib": memory,
        "load_average_1min": round(load, 2)}
    # Recall and exact-vs-approximate latency; this loads the vectors again, so it comes after the RSS.
    queries = np.asarray(vectors, dtype=np.float32)
    exact = faiss.IndexFlatIP(queries.shape[1])
    exact.add(np.ascontiguousarray(generation.vectors()))
    _, truth = exact.search(queries, 10)
    result["exact_dense"] = dense_latency(exact, queries)
    if hasattr(dense, "nprobe"):
        _, found = dense.search(queries, 10)
        result["recall_at_10_vs_exact"] = recall(found, truth)
        result["nprobe_curve"] = ann_curve(dense, queries, truth, [8, 16, 32, 64, 128])
    elif result["n"] >= 5000:  # the IVF this size would get past the switch, for choosing the threshold
        began = time.perf_counter()
        ivf = build_dense(np.asarray(generation.vectors()), exact_limit=0)
        result["ivf_if_switched"] = {"nlist": ivf.nlist, "nprobe": ivf.nprobe,
                                     "build_s": round(time.perf_counter() - began, 2),
                                     "recall_at_10_vs_exact": recall(ivf.search(queries, 10)[1], truth),
                                     "nprobe_curve": ann_curve(ivf, queries, truth, [8, 16, 32, 64, 128])}
    return result


# ---- parent ----

def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([PY, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plot(points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [p["n"] for p in points]
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("total", "o-"), ("embed", "s--"), ("dense", "^--"), ("lexical", "v--")):
        lat.plot(ns, [p["latency"][name]["p95_ms"] for p in points], style, label=f"{name} p95")
    lat.plot(ns, [p["latency"]["total"]["p50_ms"] for p in points], "o:", label="total p50")
    lat.plot(ns, [p["exact_dense"]["p95_ms"] for p in points], "x:", color="grey", label="exact dense p95")
    lat.axhline(60, color="red", lw=0.8, label="target p95 60 ms")
    lat.set(xscale="log", yscale="log", xlabel="chunks", ylabel="ms per query", title="Hybrid retrieval latency")
    lat.legend(fontsize=7)
    mem.plot(ns, [p["memory_mib"]["steady_after_queries"]["VmRSS"] / 1024 for p in points], "o-", label="steady RSS")
    mem.plot(ns, [p["memory_mib"]["searcher_open"]["VmRSS"] / 1024 for p in points], "^--",
             label="searcher open, before the first query")
    mem.plot(ns, [p["memory_mib"]["steady_after_queries"]["VmHWM"] / 1024 for p in points], "x:", label="peak")
    mem.plot(ns, [p["memory_mib"]["model_loaded"]["VmRSS"] / 1024 for p in points], "s--", label="model only")
    mem.axhline(4e9 / 2**30, color="red", lw=0.8, label="target 4 GB (3.73 GiB)")
    mem.set(xscale="log", xlabel="chunks", ylabel="GiB", title="Searcher process memory")
    mem.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(result: dict[str, Any]) -> str:
    """The Markdown table of BENCHMARKS.md."""
    rows = ["| chunks | data | index (nprobe/nlist) | build s | total p50 / p95 ms | embed p50 / p95 | dense p50 / p95 "
            "| BM25 p50 / p95 | exact dense p50 | steady RSS MiB (peak) | recall@10 vs exact |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in result["points"]:
        lat = p["latency"]
        index = p["index_type"] + (f" ({p['nprobe']}/{p['nlist']})" if p.get("nlist") else "")
        if p.get("recall_at_10_vs_exact") is not None:
            rec = f"{p['recall_at_10_vs_exact']:.3f}"
        elif p.get("ivf_if_switched"):
            ivf = p["ivf_if_switched"]
            rec = f"1 (IVF {ivf['nprobe']}/{ivf['nlist']} here: {ivf['recall_at_10_vs_exact']:.3f})"
        else:
            rec = "1"
        data = "real" if p["data"].startswith("real") else "synthetic"
        mem = p["memory_mib"]["steady_after_queries"]
        rows.append(" | ".join([
            f"| {p['n']:,}", data, index, str(p.get("build_s") or "-"),
            *(f"{lat[s]['p50_ms']:.1f} / {lat[s]['p95_ms']:.1f}" for s in ("total", "embed", "dense", "lexical")),
            f"{p['exact_dense']['p50_ms']:.1f}", f"{mem['VmRSS']:.0f} ({mem['VmHWM']:.0f})", rec]) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,200000,1000000",
                        help="synthetic sizes; 100000 is EXACT_LIMIT, the largest exact index")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=5, help="hits per query (the default top_k)")
    parser.add_argument("--noise", type=float, default=1.0, help="scale of the noise around real vectors")
    parser.add_argument("--work", default="/tmp/rag_scale", help="where the indexes are built (10 GB at 1M)")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic indexes (else removed after use)")
    parser.add_argument("--out", default=str(RESULTS / "scale.json"))
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --out and redraw the plot")
    parser.add_argument("--child", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work)
    if args.table:
        result = json.loads(Path(args.out).read_text())
        plot(result["points"], Path(args.out).with_suffix(".png"))
        print(table(result))
        return
    if args.child == "build":
        print(json.dumps(child_build(real_index(work), Path(args.root), args.n, args.noise)))
        return
    if args.child == "measure":
        print(json.dumps(child_measure(Path(args.root), args.queries, args.k)))
        return
    work.mkdir(parents=True, exist_ok=True)
    real_root = real_index(work)
    out = Path(args.out)
    result: dict[str, Any] = {
        "command": "python bench/scale.py" + "".join(f" --{a} {getattr(args, a)}" for a, d in (
            ("sizes", "10000,100000,200000,1000000"), ("queries", 300), ("k", 5), ("noise", 1.0))
            if getattr(args, a) != d),
        "machine": machine(), "points": []}
    real = run_child(["--child", "measure", "--root", str(real_root), "--queries", str(args.queries),
                      "--k", str(args.k)])
    real.update({"data": "real squad_it_dev", **json.loads((work / "real_build.json").read_text())}
                if (work / "real_build.json").exists() else {"data": "real squad_it_dev"})
    result["points"].append(real)
    print(json.dumps(real), file=sys.stderr, flush=True)
    for n in [int(s) for s in args.sizes.split(",") if s]:
        root = work / f"n{n}"
        shutil.rmtree(root, ignore_errors=True)
        built = run_child(["--child", "build", "--root", str(root), "--n", str(n), "--noise", str(args.noise),
                           "--work", str(work)])
        measured = run_child(["--child", "measure", "--root", str(root), "--queries", str(args.queries),
                              "--k", str(args.k)])
        point = {**measured, **built, "data": f"synthetic (text and vectors), noise {args.noise}"}
        result["points"].append(point)
        print(json.dumps(point), file=sys.stderr, flush=True)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))  # after each size, so a failure keeps it
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    plot(result["points"], out.with_suffix(".png"))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
