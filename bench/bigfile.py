"""Indexing one big text file: time and peak memory for 1, 5 and 20 MB, with and without line breaks.

    python bench/bigfile.py            # about 6 min on 2 cores; writes bench/results/bigfile.json
    python bench/bigfile.py --kinds unbroken   # one kind again (the others' rows are kept)

Each case is a fresh process (`--one MB LINES`) that writes the file, builds an index of it with the
real tokenizer sizing the chunks, and reports seconds and its peak RSS. The model's forward pass is
left out (a stand-in embedder hashes each chunk): it costs the same per chunk at any file size, and
at 30.7 chunks/s (speed.json) 20 MB would take ten minutes of it; what grew faster than the file
was everything before it. `embed_s_at_speed_json` adds that cost back, computed.

The text is Italian-like prose (words from a fixed list, a full stop every ~15 words) with a line
break every ~12 sentences ("lines") or none ("one"), or one unbroken string ("unbroken"): no
separator at all, the case where the old splitter tokenized the whole file and then every character.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, machine

SIZES_MB = (1, 5, 20)
KINDS = ("lines", "one", "unbroken")
CHUNKS_PER_S = 30.68  # speed.json: the real model's build throughput on this machine
WORDS = ("il chip Ascend 910B di Huawei è stato ordinato da ByteDance per addestrare i suoi modelli linguistici "
         "nella regione cinese dove la domanda di calcolo cresce ogni anno con nuove piattaforme come Coze").split()


def make_text(size: int, kind: str) -> str:
    """Prose with a line break every 12 sentences ("lines"), the same on one line ("one"), or one unbroken
    string of letters and digits, like a base64 blob or a minified file ("unbroken")."""
    rnd = random.Random(size)
    if kind == "unbroken":
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
        return "".join(rnd.choices(alphabet, k=size))
    lines = kind == "lines"
    parts: list[str] = []
    total = 0
    sentence = 0
    while total < size:
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(8, 22))]
        text = " ".join(words).capitalize() + "."
        sentence += 1
        text += "\n" if lines and sentence % 12 == 0 else " "
        parts.append(text)
        total += len(text.encode())
    return "".join(parts)


class TokenizerOnly:
    """The real model's tokenizer for sizing chunks; a hash instead of the forward pass."""

    def __init__(self) -> None:
        from index.embed import SentenceTransformerEmbedder

        self._real = SentenceTransformerEmbedder()
        self.model_id, self.max_tokens, self.dim = "tokenizer-only", self._real.max_tokens, 32

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)

    def embed(self, texts, progress=None):  # type: ignore[no-untyped-def]
        import numpy as np

        out = np.stack([np.frombuffer(hashlib.blake2b(t.encode(), digest_size=32).digest(), np.uint8)
                        for t in texts]).astype(np.float32) - 127.5 if texts else np.zeros((0, 32), np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
        if progress:
            progress(len(texts))
        return out.astype(np.float32)


def one(mb: float, kind: str) -> dict[str, object]:
    from index.builder import Builder
    from index.store import IndexStore
    from index.text.chunking import ChunkSettings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(make_text(int(mb * 1_000_000), kind))
        embedder = TokenizerOnly()
        began = time.perf_counter()
        report = Builder(IndexStore(Path(tmp) / "index"), embedder, ChunkSettings(),  # type: ignore[arg-type]
                         max_bytes=60 * 1024 * 1024).build([str(path)])
        seconds = time.perf_counter() - began
    return {"mb": mb, "kind": kind, "chunks": report.chunks, "seconds": round(seconds, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "embed_s_at_speed_json": round(report.chunks / CHUNKS_PER_S)}


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(float(sys.argv[2]), sys.argv[3])))
        return
    kinds = sys.argv[sys.argv.index("--kinds") + 1].split(",") if "--kinds" in sys.argv else list(KINDS)
    rows = []
    for kind in kinds:
        for mb in SIZES_MB:
            proc = subprocess.run([sys.executable, __file__, "--one", str(mb), kind],
                                  capture_output=True, text=True, timeout=1800, check=True)
            rows.append(json.loads(proc.stdout.splitlines()[-1]))
            print(rows[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    if (RESULTS / "bigfile.json").exists() and "--kinds" in sys.argv:  # keep the other kinds' rows
        kept = json.loads((RESULTS / "bigfile.json").read_text())["rows"]
        rows = [r for r in kept if r.get("kind") not in kinds] + rows
    (RESULTS / "bigfile.json").write_text(json.dumps({"command": "python bench/bigfile.py", "machine": machine(),
                                                      "load_average_after": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
