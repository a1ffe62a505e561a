"""Shared helpers for bench/: paths, the evidence test of the eval README, sampling, run metadata."""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.evaluate import normalize  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
SQUAD_DOCS = EVAL / "squad_it_dev" / "docs"
SQUAD_QUESTIONS = EVAL / "squad_it_dev" / "questions.jsonl"
SEED_QUESTIONS = EVAL / "seed_dev.jsonl"
SEEDS = ROOT / "seeds"
RESULTS = ROOT / "bench" / "results"


def evidence(q: dict[str, Any]) -> list[str]:
    """The strings a right passage contains, normalised (evidence_any, else evidence, else answer_any)."""
    ev = q.get("evidence_any") or ([q["evidence"]] if q.get("evidence") else q.get("answer_any", []))
    return [normalize(e) for e in ev]


def holds(path: str, text: str, q: dict[str, Any]) -> bool:
    """Whether a passage from `path` with `text` is right evidence for `q` (eval README rules)."""
    source = q.get("source")
    if source and Path(path).name != Path(source).name:
        return False
    norm = normalize(text)
    return any(e in norm for e in evidence(q))


def sample(questions: list[dict[str, Any]], limit: int | None, seed: int = 7) -> list[dict[str, Any]]:
    """All questions, or a seeded sample of `limit` that keeps the share of unanswerable ones."""
    if not limit or limit >= len(questions):
        return questions
    rng = random.Random(seed)
    unans = [q for q in questions if q.get("unanswerable")]
    ans = [q for q in questions if not q.get("unanswerable")]
    n_unans = max(1, round(limit * len(unans) / len(questions))) if unans else 0
    return rng.sample(ans, limit - n_unans) + rng.sample(unans, n_unans)


def machine() -> dict[str, Any]:
    """Where and on what code the figures were taken: a dirty tree is recorded as such."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    import torch

    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty_files": [line[3:] for line in git("status", "--porcelain").splitlines()
                            if line[3:].startswith(("index/", "rag/"))]}
