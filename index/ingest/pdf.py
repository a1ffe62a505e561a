"""PDF text extraction in a child process with time and memory limits.

A malformed or hostile PDF can make a parser loop or allocate without bound; in a child with
RLIMIT_AS, RLIMIT_CPU and a wall-clock timeout, that costs one skipped file instead of the build.
Run as `python -m index.ingest.pdf FILE`: prints {"pages": [...]} or {"error": "..."} as JSON.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

MEMORY_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 30
WALL_SECONDS = 60


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def extract_pages(path: str, wall_seconds: float = WALL_SECONDS) -> list[str] | str:
    """The text of each page, or a one-line reason why there is none."""
    try:
        proc = subprocess.run([sys.executable, "-m", "index.ingest.pdf", path], capture_output=True, text=True,
                              timeout=wall_seconds, preexec_fn=_limit)
    except subprocess.TimeoutExpired:
        return f"PDF parsing took over {wall_seconds:.0f} s; skipped"
    if proc.returncode != 0:
        return "PDF parser ran out of memory or time (or crashed); skipped"
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        return "PDF parser gave no result; skipped"
    return result["pages"] if "pages" in result else str(result["error"])


def main(path: str) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            print(json.dumps({"error": "encrypted PDF; decrypt it first"}))
            return
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        print(json.dumps({"error": f"unreadable PDF ({type(exc).__name__})"}))
        return
    print(json.dumps({"pages": pages}))


if __name__ == "__main__":
    main(sys.argv[1])
