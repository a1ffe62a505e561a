"""Load on `rag serve`: 1, 8 and 32 concurrent clients asking squad_it_dev questions over loopback.

Measures the server before the ASGI rewrite (`bench/old_server.py`, the standard library's threaded
server with a per-bot lock) and today's (`rag serve`, as it starts by default) in one command, on the same index
and the same questions: both are started, and each level runs on one right after the other:

    python bench/load.py            # about 5 minutes on 2 cores; writes bench/results/load.json

Every request is a non-streamed chat completion; a client sends its next question when its answer
has arrived. Each level is bounded twice: a number of questions and a deadline, and the clients
stop by themselves at whichever comes first. Only 127.0.0.1 is ever addressed. An error is any
reply but a 200 with an answer, or no reply within the client's timeout. The answers of the two
servers to the same question are compared too (they share the Assistant, so they must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from common import RESULTS, ROOT, SQUAD_DOCS, SQUAD_QUESTIONS, machine, sample

HOME = RESULTS / "tmp" / "load-home"
BOT = "squad"
LEVELS = {1: 16, 8: 64, 32: 96}  # concurrent clients: questions asked at that level
DEADLINE_S = 120.0  # per level
TIMEOUT_S = 60.0  # per request
START_S = 900.0  # for a server to load and, today's, to embed the index's sentences


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_bot() -> None:
    if (HOME / "indexes" / BOT / "CURRENT").exists():
        return
    subprocess.run([sys.executable, "-m", "rag", "--home", str(HOME), "bot", "new", BOT, "-s", str(SQUAD_DOCS),
                    "-d", "squad_it_dev", "-q"], check=True, cwd=ROOT, timeout=1800)


def start(name: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    if name == "before":
        cmd = [sys.executable, str(ROOT / "bench" / "old_server.py"), str(HOME), BOT, str(port)]
    else:
        cmd = [sys.executable, "-m", "rag", "--home", str(HOME), "--bot", BOT, "serve", "--port", str(port),
               "--workers", str(workers), "--max-concurrent", "64"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if health.status_code == 200 and not health.json().get("warming"):  # ready, vectors remembered
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # polling a process that has no readiness signal but /health
    proc.kill()
    raise SystemExit(f"{name} server was not ready within {START_S:g} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def level(port: int, clients: int, questions: list[str]) -> dict[str, Any]:
    """`clients` threads share the questions; each asks one at a time until none is left or the deadline."""
    todo, lock = list(enumerate(questions)), threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    answers: dict[int, str] = {}
    deadline = time.monotonic() + DEADLINE_S

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT_S) as http:
            while time.monotonic() < deadline:
                with lock:
                    if not todo:
                        return
                    i, question = todo.pop(0)
                began = time.perf_counter()
                try:
                    reply = http.post("/v1/chat/completions", json={
                        "model": BOT, "messages": [{"role": "user", "content": question}]})
                    ok = reply.status_code == 200
                    text = reply.json()["choices"][0]["message"]["content"] if ok else ""
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    ok, text, reply = False, "", exc  # type: ignore[assignment]
                with lock:
                    if ok:
                        latencies.append(time.perf_counter() - began)
                        answers[i] = text
                    else:
                        errors.append(str(getattr(reply, "status_code", reply)))

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
    return {"clients": clients, "asked": len(latencies) + len(errors), "answered": len(latencies),
            "errors": len(errors), "error_kinds": sorted(set(errors)), "wall_s": round(wall, 2),
            "answers_per_s": round(len(latencies) / wall, 3), "p50_ms": round(statistics.median(latencies) * 1000)
            if latencies else None, "p95_ms": round(q[18] * 1000) if latencies else None, "answers": answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="rag serve --workers for today's server")
    parser.add_argument("--levels", type=int, nargs="*", default=list(LEVELS), choices=list(LEVELS))
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()
    ensure_bot()
    shutil.rmtree(HOME / "cache" / "sentence-vectors", ignore_errors=True)  # today's server starts cold
    pool = [q["question"] for q in sample([json.loads(line) for line in SQUAD_QUESTIONS.open()], 400)]
    slices, at = {}, 0
    for clients, count in LEVELS.items():  # each level its own questions, the same for both servers
        slices[clients], at = pool[at:at + count], at + count
    ports = {"before": free_port(), "after": free_port()}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    loads: list[float] = []
    ready_s: dict[str, float] = {}
    try:
        for name, port in ports.items():  # both up at once; only one is asked at a time
            began = time.monotonic()
            procs[name] = start(name, port, args.workers)
            ready_s[name] = round(time.monotonic() - began, 1)
            httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=TIMEOUT_S,  # one warm-up question
                       json={"model": BOT, "messages": [{"role": "user", "content": pool[-1]}]})
        # Each level runs on one server right after the other, first one, then the other, alternately:
        # the machine's other load drifts over minutes, and this keeps the drift out of the comparison.
        for n, clients in enumerate(args.levels):
            for name in (("before", "after") if n % 2 == 0 else ("after", "before")):
                loads.append(os.getloadavg()[0])
                row = level(ports[name], clients, slices[clients])
                runs[name].append(row)
                print(name, {k: v for k, v in row.items() if k != "answers"}, flush=True)
        stop(procs.pop("after"))
        began = time.monotonic()  # a restart: the sentence vectors come from the file the first start saved
        procs["after"] = start("after", ports["after"], args.workers)
        ready_s["after, restarted"] = round(time.monotonic() - began, 1)
    finally:
        for proc in procs.values():
            stop(proc)
    same = [runs["before"][i]["answers"][k] == v for i in range(len(args.levels))
            for k, v in runs["after"][i]["answers"].items() if k in runs["before"][i]["answers"]]
    result = {"machine": machine(), "load_average_1min_at_each_run": [round(x, 1) for x in loads],
              "levels": {c: LEVELS[c] for c in args.levels}, "deadline_s": DEADLINE_S, "timeout_s": TIMEOUT_S,
              "workers_after": args.workers, "ready_s": ready_s, "same_answers": f"{sum(same)} of {len(same)}",
              "runs": {n: [{k: v for k, v in row.items() if k != "answers"} for row in rows]
                       for n, rows in runs.items()}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(table(result))


def table(result: dict[str, Any]) -> str:
    lines = ["| server | clients | answered | errors | answers/s | p50 ms | p95 ms |", "|---|---|---|---|---|---|---|"]
    for name, label in (("before", "before: http.server, per-bot lock"),
                        ("after", f"now: uvicorn, --workers {result['workers_after']}")):
        for row in result["runs"][name]:
            lines.append(f"| {label} | {row['clients']} | {row['answered']} | {row['errors']} | "
                         f"{row['answers_per_s']} | {row['p50_ms']} | {row['p95_ms']} |")
    lines.append(f"\nSame answer from both servers: {result['same_answers']} questions. Seconds from start to "
                 f"ready: {result['ready_s']}; load average at each run: {result['load_average_1min_at_each_run']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
