"""Resumable builds and chunk-level reuse: what an interruption and a small edit cost.

    python bench/resume.py              # about 6 min on 2 cores

On a copy of shared/eval/squad_it_dev/docs (20 files, about 1,400 chunks), all in one command so
that the load of other processes falls on every figure alike:

- full build: `Assistant.build` from scratch with the model loaded, twice (before and after the
  resume, so that drifting load shows); the median is the unit of every share below. Each share
  is given in wall time and in CPU time of this process, which other jobs disturb far less.
- resume: `rag index build` as a process, SIGKILLed once the embedding cache holds about half the
  chunks (`--kill-at`), then the same build again in this process: the chunks it embedded and its
  wall time as a share of the full build, and whether its index equals the full build's.
- update: a paragraph appended to the largest file, then to the file of median size
  (`--repeats` times each), `Assistant.update` timed as a share of the full build.

Writes bench/results/resume.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, ROOT, SQUAD_DOCS, machine

from index.cache import pending_rows
from rag.assistant import Assistant
from rag.config.settings import Settings

RAG = str(Path(sys.executable).parent / "rag")


class Timer:
    """Wall seconds, and CPU seconds of this process (all its threads): the CPU figure barely moves
    when other jobs take the cores, so shares in it are the steadier ones on a busy machine."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def full_build(tmp: Path, name: str, docs: Path, embedder) -> tuple[Timer, Assistant]:  # type: ignore[no-untyped-def]
    assistant = Assistant(Settings(home=tmp / name), embedder=embedder)
    with Timer() as timer:
        report = assistant.build([str(docs)])
    print(f"full build {name}: {timer.wall:.1f} s ({timer.cpu:.1f} s CPU), {report.chunks_embedded} embedded",
          file=sys.stderr, flush=True)
    return timer, assistant


def killed_then_resumed(tmp: Path, docs: Path, embedder, kill_at: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    home = tmp / "resume"
    root = home / "indexes" / "default"
    env = {**os.environ, "RAG_HOME": str(home)}
    began = time.perf_counter()
    proc = subprocess.Popen([RAG, "index", "build", str(docs), "-q"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and pending_rows(root) < kill_at:
        time.sleep(0.02)
    if proc.poll() is not None:
        raise SystemExit(f"the build ended before the kill: {proc.stderr.read()}")  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = time.perf_counter() - began
    saved = pending_rows(root)
    assistant = Assistant(Settings(home=home), embedder=embedder)
    with Timer() as timer:
        report = assistant.build([str(docs)])
    print(f"resumed: {timer.wall:.1f} s ({timer.cpu:.1f} s CPU), {report.chunks_embedded} embedded, "
          f"{report.chunks_resumed} from the cache", file=sys.stderr, flush=True)
    return {"killed_after_s": round(killed_after, 2), "cached_at_kill": saved, "chunks": report.chunks,
            "chunks_embedded": report.chunks_embedded, "chunks_resumed": report.chunks_resumed,
            "seconds": round(timer.wall, 2), "cpu_seconds": round(timer.cpu, 2), "_assistant": assistant}


def same_index(a: Assistant, b: Assistant) -> dict[str, Any]:
    ga, gb = a.store.open(), b.store.open()
    ta = [c.text for c in ga.chunks(list(range(ga.meta.n_chunks)))]
    tb = [c.text for c in gb.chunks(list(range(gb.meta.n_chunks)))]
    diff = float(np.abs(np.asarray(ga.vectors()) - np.asarray(gb.vectors())).max()) if ta == tb else None
    return {"same_chunk_texts": ta == tb, "max_abs_vector_difference": diff}


def updates(assistant: Assistant, full: dict[str, float], repeats: int) -> dict[str, Any]:
    files = sorted(assistant.store.open().files(), key=lambda f: (f.n_chunks, f.path))
    result: dict[str, Any] = {}
    for label, record in (("largest_file", files[-1]), ("median_file", files[len(files) // 2])):
        runs, cpu, embedded = [], [], []
        for i in range(repeats):
            with open(record.path, "a", encoding="utf-8") as fh:  # text found nowhere else in the corpus
                fh.write(f"\n\nParagrafo aggiunto a {Path(record.path).stem} per la prova numero {i + 1}.\n")
            with Timer() as timer:
                report = assistant.update()
            runs.append(timer.wall)
            cpu.append(timer.cpu)
            embedded.append(report.chunks_embedded)
        med, med_cpu = statistics.median(runs), statistics.median(cpu)
        result[label] = {"file": Path(record.path).name, "file_chunks": record.n_chunks,
                         "chunks_embedded": embedded, "seconds_runs": [round(s, 3) for s in runs],
                         "seconds_median": round(med, 3), "share_of_full_build": round(med / full["wall"], 4),
                         "cpu_seconds_median": round(med_cpu, 3),
                         "cpu_share_of_full_build": round(med_cpu / full["cpu"], 4)}
        print(f"update {label}: {med:.2f} s, {embedded} embedded", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of the chunks cached before the kill")
    parser.add_argument("--repeats", type=int, default=3, help="updates of each file")
    parser.add_argument("--out", default=str(RESULTS / "resume.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        docs = tmp / "docs"
        shutil.copytree(SQUAD_DOCS, docs)
        embedder = Assistant(Settings(home=tmp / "warm")).embedder
        embedder.embed(["warm up"])
        first, first_assistant = full_build(tmp, "full1", docs, embedder)
        total = first_assistant.store.open().meta.n_chunks
        resume = killed_then_resumed(tmp, docs, embedder, kill_at=args.kill_at * total)
        second, _ = full_build(tmp, "full2", docs, embedder)
        full = {"wall": statistics.median([first.wall, second.wall]), "cpu": statistics.median([first.cpu, second.cpu])}
        resumed = resume.pop("_assistant")
        resume.update({"share_embedded": round(resume["chunks_embedded"] / resume["chunks"], 4),
                       "share_of_full_build": round(resume["seconds"] / full["wall"], 4),
                       "cpu_share_of_full_build": round(resume["cpu_seconds"] / full["cpu"], 4),
                       **same_index(resumed, first_assistant)})
        result = {
            "command": "python bench/resume.py" + (f" --kill-at {args.kill_at}" if args.kill_at != 0.5 else "")
            + (f" --repeats {args.repeats}" if args.repeats != 3 else ""),
            "machine": machine(), "corpus": "shared/eval/squad_it_dev/docs",
            "full_build": {"chunks": total, "seconds_runs": [round(first.wall, 2), round(second.wall, 2)],
                           "seconds_median": round(full["wall"], 2),
                           "cpu_seconds_runs": [round(first.cpu, 2), round(second.cpu, 2)],
                           "cpu_seconds_median": round(full["cpu"], 2)},
            "resume": resume,
            "update": updates(first_assistant, full, args.repeats),
            # Before chunk-level reuse a changed file was embedded whole: bench/results/speed.json at
            # 7a2c962 (python bench/speed.py, another run, wall time) measured these shares.
            "update_before_this_change": {"largest_file": {"chunks_embedded": 163, "share_of_full_build": 0.1213},
                                          "median_file": {"chunks_embedded": 68, "share_of_full_build": 0.0493}},
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
