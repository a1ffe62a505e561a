"""What an answer looks like on the wire: `passage_json`'s shape with the path made relative to the
bot's sources, so a published bot never shows the server's folders.

A source is a file, a folder or a glob; its root is the folder part before the first wildcard (a
file's root is its folder). A passage's path is written relative to the deepest root that holds it,
and as the bare file name when none does (an index built from other paths than the profile lists).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rag.answer import Answer

_WILDCARDS = set("*?[")


def source_roots(sources: list[str]) -> list[Path]:
    roots = []
    for source in sources:
        parts = Path(os.path.expanduser(source)).parts
        cut = next((i for i, part in enumerate(parts) if _WILDCARDS & set(part)), len(parts))
        root = (Path(*parts[:cut]) if cut else Path(".")).resolve()
        roots.append(root.parent if root.is_file() else root)
    return sorted(set(roots), key=lambda p: len(p.parts), reverse=True)  # deepest first


def relative(path: str, roots: list[Path]) -> str:
    where = Path(path)
    for root in roots:
        if where.is_relative_to(root) and where != root:
            return where.relative_to(root).as_posix()
    return where.name


def answer_json(answer: Answer, roots: list[Path]) -> dict[str, Any]:
    """The structured part of an answer that travels beside the text: citations (relative paths),
    sentences with their support marks, abstained, support summary."""
    citations = [{**c.to_json(), "path": relative(c.hit.chunk.path, roots)} for c in answer.citations]
    return {"citations": citations, "abstained": answer.abstained, "support": answer.support,
            "confidence": round(answer.confidence, 4), "incomplete": answer.incomplete,
            "sentences": [s.to_json() for s in answer.sentences]}
