"""Seconds from a file saved to a question answered from it, with `rag index watch` running.

    python bench/watch.py              # about 3 min on 2 cores; writes bench/results/watch.json
    python bench/watch.py --edits 5 --copies 2   # a quick look

A real `rag index watch` process (the bundled model) keeps an index of the seed article plus a folder
of notes; this process saves a change, waits for the watcher's line for it (no polling of ours), then
asks, as `rag ask` does, a question only the change answers, and checks the answer quotes it. The
time runs from the save to the answer. Two cases:

- a small edit: one sentence with a new fact appended to a note (one chunk to embed);
- 100 files copied in at once (100 chunks), the question about the last one copied.

Each figure includes the debounce (`rag.watch.STEP_MS` of quiet before an update starts).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, SEEDS, machine


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Watching:
    """A `rag index watch` process and its output, line by line."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, "RAG_HOME": str(home)}
        self.proc = subprocess.Popen([sys.executable, "-m", "rag", "index", "watch"], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None and self.proc.stdout is not None
        line = self.proc.stderr.readline()
        if "Watching" not in line:
            raise SystemExit(f"the watcher did not start: {line}{self.proc.stderr.read()}")

    def until_files(self, files: int) -> list[str]:
        """The watcher's lines up to the update after which the index holds `files` files."""
        lines = []
        while True:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"the watcher stopped: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            lines.append(line.strip())
            if f"(index: {files} files" in line:
                return lines

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def main() -> None:
    edits = int(sys.argv[sys.argv.index("--edits") + 1]) if "--edits" in sys.argv else 20
    copies = int(sys.argv[sys.argv.index("--copies") + 1]) if "--copies" in sys.argv else 5
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, notes, staging = root / "home", root / "notes", root / "staging"
        notes.mkdir()
        (notes / "diario.txt").write_text("Diario del laboratorio.\n\nOggi abbiamo pulito i banchi.\n")
        env = {**os.environ, "RAG_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "rag", "index", "build", str(SEEDS), str(notes), "-q"], cwd=ROOT,
                       env=env, check=True)
        asker = Assistant(Settings(home=home))
        asker.warm_up()
        watching = Watching(home)
        files = asker.searcher.generation.meta.n_files
        rows: dict[str, list[dict[str, object]]] = {"small_edit": [], "copy_100_files": []}
        try:
            for i in range(edits):
                code = f"zq{i:03}x"
                began = time.perf_counter()
                with open(notes / "diario.txt", "a") as fh:
                    fh.write(f"\nIl codice segreto della prova numero {i} è {code}.\n")
                lines = watching.until_files(files)
                updated = time.perf_counter()
                answer = asker.ask(f"Qual è il codice segreto della prova numero {i}?")
                done = time.perf_counter()
                rows["small_edit"].append({"seconds": round(done - began, 3), "to_update": round(updated - began, 3),
                                           "answered": code in answer.text, "updates": len(lines)})
                print("edit", rows["small_edit"][-1], flush=True)
            for c in range(copies):
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
                for n in range(100):
                    (staging / f"nota_{c}_{n:03}.txt").write_text(
                        f"Nota {c}-{n}. Il magazzino {c}{n:03} custodisce la cassa numero k{c}{n:03}w.\n")
                began = time.perf_counter()
                for path in sorted(staging.iterdir()):
                    shutil.copy(path, notes / path.name)
                files += 100
                lines = watching.until_files(files)
                updated = time.perf_counter()
                answer = asker.ask(f"Quale cassa custodisce il magazzino {c}099?")
                done = time.perf_counter()
                rows["copy_100_files"].append({"seconds": round(done - began, 3),
                                               "to_update": round(updated - began, 3),
                                               "answered": f"k{c}099w" in answer.text, "updates": len(lines),
                                               "lines": lines})
                print("copy", rows["copy_100_files"][-1], flush=True)
        finally:
            watching.close()
    summary = {name: {"runs": len(r), "p50_s": round(statistics.median([x["seconds"] for x in r]), 2),  # type: ignore[misc]
                      "p95_s": round(percentile([x["seconds"] for x in r], 0.95), 2),  # type: ignore[misc]
                      "answered": sum(bool(x["answered"]) for x in r),
                      "max_updates": max(int(x["updates"]) for x in r)}  # type: ignore[call-overload]
               for name, r in rows.items() if r}
    print(json.dumps(summary, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "watch.json").write_text(json.dumps({"command": "python bench/watch.py " + " ".join(sys.argv[1:]),
                                                    "machine": machine(), "load_average_after": os.getloadavg(),
                                                    "summary": summary, "rows": rows},
                                                   indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
