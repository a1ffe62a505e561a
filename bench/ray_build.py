"""Distributed embedding: chunks per second of a local build and of Ray with 1 and 2 workers, Ray's fixed
overhead, and what N workers would take for 1M and 10M chunks.

    python bench/ray_build.py          # about 25 min on 2 busy cores

On a copy of shared/eval/squad_it_dev/docs (20 files, about 1,400 chunks), the real model, in one
command so that the load of other processes falls on every figure alike (the load average is
recorded before and after):

- local: the builder with the model loaded, twice with torch's 2 threads (first and last, so that
  drifting load shows) and once with 1 thread (what a Ray worker of 1 CPU gets); its stages timed
  apart: reading and chunking, embedding, writing.
- ray-1, ray-2: the same builder and `RayEmbedder` as `rag index build --ray --ray-workers N`, on a
  Ray runtime started for the build, 1 CPU a worker (this machine has 2 cores). The time of each
  batch's arrival gives the steady rate (batches after the first, over the time between the first
  and the last); the fixed
  overhead is the embedding stage's time less the chunks at that rate: starting Ray, loading the
  model in each actor, the first batch, shutting Ray down. The index is compared with the local
  one (chunk texts, largest vector difference) and `--questions` questions are asked of both.
- projections: on paper, from the measured per-worker rate (CPU) or an assumed GPU rate, plus the
  driver's own reading and chunking (before embedding) and writing (after); the assumptions are
  written in the JSON (`--reproject` recomputes them from the runs).

Writes bench/results/ray_build.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import RESULTS, SQUAD_DOCS, SQUAD_QUESTIONS, machine

from index.builder import Builder
from index.embed.distributed import RayEmbedder, RayOptions, recipe
from index.text.chunking import ChunkSettings
from rag.assistant import Assistant
from rag.config.settings import Settings

# A GPU worker's rate is assumed, not measured (no GPU here): all-MiniLM-L6-v2 costs about 6 GFLOP
# for a chunk of 254 word pieces (22M weights x 2 x 254, plus attention); 2,000 chunks/s is
# 12 TFLOP/s, a fifth of a T4's fp16 peak (65) and a tenth of an A10G's (125).
GPU_RATE = 2000.0
# Writing a generation from ready vectors (FAISS IVF, BM25, SQLite): 127 s a million chunks, the slope
# between 200k and 1M in bench/results/scale.json.
WRITE_S_PER_MILLION = 127.0
ASSUMPTIONS = [
    "CPU workers: the measured steady rate of one 1-CPU worker here, times N: linear scaling is assumed "
    "(embedding batches share nothing); here 2 workers gave 1.07 times 1, because other jobs held the "
    "2 cores (load average 7-12), not because of Ray.",
    f"GPU workers: {GPU_RATE:g} chunks/s each, assumed (see GPU_RATE in bench/ray_build.py), not measured.",
    "The driver reads and chunks every file before embedding starts, at its measured rate here on one "
    "core, and writes the generation after, at 127 s a million (bench/results/scale.json).",
    "Fixed overhead (start Ray, load the model in each actor, shut down) is paid once per build.",
    "Not counted: the driver's memory (it holds every chunk and vector until the generation is "
    "written: 1.5 GB of vectors a million chunks, more for the chunks) and the network.",
]


class Stages:
    """A progress factory that notes when each stage starts and when each step of it arrives."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.starts: dict[str, float] = {}
        self.steps: dict[str, list[tuple[float, int]]] = {}

    def __call__(self, label: str, total: int) -> Callable[[int], None]:
        self.starts[label] = time.perf_counter() - self.began
        self.steps[label] = []
        return lambda n: self.steps[label].append((time.perf_counter() - self.began, n))


def build(home: Path, docs: Path, embedder, cluster: RayOptions | None) -> tuple[Assistant, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """One build as `Assistant.build` makes it (the same builder; on Ray, the same `RayEmbedder`), timed."""
    stages = Stages()
    assistant = Assistant(Settings(home=home), embedder=embedder)
    on = embedder if cluster is None else RayEmbedder(embedder, recipe("sentence-transformers"), cluster,
                                                      home / "ray-build.log")
    report = Builder(assistant.store, on, ChunkSettings(), progress=stages).build([str(docs)])
    total = time.perf_counter() - stages.began
    arrivals = stages.steps["embedding"]
    read = stages.starts["embedding"] - stages.starts["reading"]
    embedding = arrivals[-1][0] - stages.starts["embedding"]
    out = {"chunks": report.chunks, "seconds": round(total, 2), "reading_and_chunking_s": round(read, 2),
           "embedding_s": round(embedding, 2), "writing_s": round(total - arrivals[-1][0], 2),
           "chunks_per_s": round(report.chunks / total, 2),
           "embedding_chunks_per_s": round(report.chunks / embedding, 2),
           "reading_chunks_per_s": round(report.chunks / read, 1)}
    if isinstance(on, RayEmbedder):
        # The steady rate: the chunks of every batch but the first, over the time between the first and the last.
        steady = sum(n for _, n in arrivals[1:]) / (arrivals[-1][0] - arrivals[0][0])
        out.update({"batches": len(arrivals), "steady_chunks_per_s": round(steady, 2),
                    "steady_chunks_per_s_per_worker": round(steady / on.facts["workers"], 2),
                    "first_batch_after_s": round(arrivals[0][0] - stages.starts["embedding"], 2),
                    "fixed_overhead_s": round(embedding + on.facts["shutdown_s"] - report.chunks / steady, 2),
                    "writing_s": round(total - arrivals[-1][0] - on.facts["shutdown_s"], 2), **on.facts})
    print(f"{home.name}: {json.dumps(out)}", file=sys.stderr, flush=True)
    return assistant, out


def compare(a: Assistant, b: Assistant, questions: list[str]) -> dict[str, Any]:
    ga, gb = a.store.open(), b.store.open()
    ta = [c.text for c in ga.chunks(list(range(ga.meta.n_chunks)))]
    tb = [c.text for c in gb.chunks(list(range(gb.meta.n_chunks)))]
    diff = float(np.abs(np.asarray(ga.vectors()) - np.asarray(gb.vectors())).max()) if ta == tb else None
    same = 0
    for question in questions:
        x, y = a.ask(question), b.ask(question)
        same += (x.text, [c.hit.chunk.key for c in x.citations]) == (y.text, [c.hit.chunk.key for c in y.citations])
    return {"same_chunks_in_order": ta == tb, "max_abs_vector_difference": diff,
            "questions": len(questions), "same_answers": same}


def projections(per_worker: float, overhead: float, driver_rate: float) -> dict[str, Any]:
    """Hours for 1M and 10M chunks on N workers. The builder reads and chunks every file first (on the
    driver, one core), then embeds (the pool, linear in N), then writes the generation (the driver):
    the three add up, with Ray's fixed overhead once."""
    out: dict[str, Any] = {}
    for kind, rate, counts in (("cpu_worker", per_worker, (1, 8, 32, 128)), ("gpu_worker", GPU_RATE, (1, 4, 16))):
        for n in counts:
            row: dict[str, Any] = {"pool_chunks_per_s": round(n * rate, 1)}
            for c in (1_000_000, 10_000_000):
                parts = {"read_and_chunk": c / driver_rate, "embed": c / (n * rate),
                         "write": c / 1e6 * WRITE_S_PER_MILLION}
                row[f"{c // 1_000_000}M_hours"] = round((overhead + sum(parts.values())) / 3600, 2)
                row[f"{c // 1_000_000}M_longest_part"] = max(parts, key=parts.__getitem__)
            out[f"{n}_{kind}s"] = row
    return out


def summarize(runs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary and the projections, from the runs."""
    local_rate = statistics.median([runs["local_first"]["chunks_per_s"], runs["local_last"]["chunks_per_s"]])
    per_worker = runs["ray_1"]["steady_chunks_per_s_per_worker"]
    overhead = statistics.median([runs["ray_1"]["fixed_overhead_s"], runs["ray_2"]["fixed_overhead_s"]])
    driver = statistics.median([r["reading_chunks_per_s"] for r in runs.values()])
    summary = {"local_chunks_per_s": local_rate, "local_1_thread_chunks_per_s": runs["local_1_thread"]["chunks_per_s"],
               "ray_1_chunks_per_s": runs["ray_1"]["chunks_per_s"], "ray_2_chunks_per_s": runs["ray_2"]["chunks_per_s"],
               "per_worker_chunks_per_s": per_worker,
               "scaling_1_to_2_workers": round(runs["ray_2"]["steady_chunks_per_s"]
                                               / runs["ray_1"]["steady_chunks_per_s"], 2),
               "fixed_overhead_s": overhead, "driver_reading_chunks_per_s": driver}
    return summary, projections(per_worker, overhead, driver)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=40, help="questions asked of the local and each Ray index")
    parser.add_argument("--out", default=str(RESULTS / "ray_build.json"))
    parser.add_argument("--reproject", action="store_true", help="recompute the summary and projections of --out")
    args = parser.parse_args()
    if args.reproject:
        result = json.loads(Path(args.out).read_text())
        result["summary"], result["projections"] = summarize(result["runs"])
        result["assumptions"] = ASSUMPTIONS
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result["projections"], indent=2))
        return
    load = [os.getloadavg()[0]]
    questions = [json.loads(line)["question"] for line in SQUAD_QUESTIONS.read_text().splitlines()[:args.questions]]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        docs = tmp / "docs"
        shutil.copytree(SQUAD_DOCS, docs)
        embedder = Assistant(Settings(home=tmp / "warm")).embedder
        embedder.embed(["warm up"] * 65)  # loads sentence-transformers (65 texts: past the NumPy path)
        local, first = build(tmp / "local1", docs, embedder, None)
        runs: dict[str, Any] = {"local_first": first}
        for workers in (1, 2):
            ray, runs[f"ray_{workers}"] = build(tmp / f"ray{workers}", docs, embedder,
                                                RayOptions(address="local", workers=workers, cpus=1))
            runs[f"ray_{workers}"]["against_local"] = compare(ray, local, questions)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # what one Ray worker of 1 CPU runs with (Ray sets OMP_NUM_THREADS=1)
        _, runs["local_1_thread"] = build(tmp / "local1t", docs, embedder, None)
        torch.set_num_threads(threads)
        _, runs["local_last"] = build(tmp / "local2", docs, embedder, None)
    load.append(os.getloadavg()[0])
    summary, projected = summarize(runs)
    result = {
        "machine": {**machine(), "load_average_before_after": [round(x, 2) for x in load]},
        "docs": str(SQUAD_DOCS.name), "runs": runs, "summary": summary, "projections": projected,
        "assumptions": ASSUMPTIONS,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
