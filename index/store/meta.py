"""What an index records about itself: the settings that built it, and each file it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class IndexMeta:
    """The settings that built an index; queries with other settings are refused."""

    model_id: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    sources: list[str]
    languages: list[str]
    n_chunks: int
    n_files: int
    built_at: str
    build_seconds: float
    schema_version: int = SCHEMA_VERSION
    normalized: bool = True
    skipped: list[dict[str, str]] = field(default_factory=list)
    probe: list[float] = field(default_factory=list)  # the model's embedding of a fixed sentence


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    mtime: float
    kind: str
    lang: str
    n_chunks: int
