"""What an index holds and how it was built: for `rag index info`, the chat's welcome and status bar.

Reading it is cheap (the generation's metadata and SQLite, no vectors, no model).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from index.store import Generation

MAX_HEADINGS_SCANNED = 500  # chunks read for section headings (suggested questions); enough for a welcome


@dataclass(frozen=True)
class DocumentSummary:
    path: str
    chunks: int
    lang: str
    kind: str
    bytes: int


@dataclass(frozen=True)
class IndexSummary:
    location: str
    model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    schema_version: int
    chunks: int
    files: int
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    size_bytes: int
    built_at: str
    build_seconds: float
    documents: tuple[DocumentSummary, ...]
    headings: tuple[str, ...]  # the sections' headings, in order, without repeats
    skipped: tuple[dict[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("languages", "sources", "documents", "headings", "skipped"):
            data[key] = list(data[key])
        return data


def summarize(generation: Generation) -> IndexSummary:
    meta = generation.meta
    headings: list[str] = []
    for chunk in generation.chunks(range(min(meta.n_chunks, MAX_HEADINGS_SCANNED))):
        heading = " ".join(chunk.heading.split())
        if heading and heading not in headings:
            headings.append(heading)
    return IndexSummary(
        location=str(generation.folder), model=meta.model_id, dim=meta.dim, chunk_size=meta.chunk_size,
        chunk_overlap=meta.chunk_overlap, schema_version=meta.schema_version, chunks=meta.n_chunks,
        files=meta.n_files, languages=tuple(meta.languages), sources=tuple(meta.sources),
        size_bytes=generation.size_bytes(), built_at=meta.built_at, build_seconds=meta.build_seconds,
        documents=tuple(DocumentSummary(f.path, f.n_chunks, f.lang, f.kind, f.size) for f in generation.files()),
        headings=tuple(headings), skipped=tuple(meta.skipped))
