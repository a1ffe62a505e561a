"""The one compatibility check: may this index be read, updated or reused with these settings?

An index records the settings that built it (schema, model id, dimension, a probe embedding,
chunking; see `store.meta.IndexMeta`). Vectors mean something only in the space of the model that
made them, and chunk boundaries only under the chunking that cut them, so:
- searching needs the same schema and embedding space (`check_search`);
- updating needs that and the same chunking (`check_update`);
- reusing vectors (from the current generation or the resume cache) needs the same space
  (`same_space`), and otherwise simply reuses nothing.
Two embedders are in the same space when their model id and dimension match and their embeddings
of a fixed sentence (the probe) agree to `PROBE_TOLERANCE`: a model folder whose weights changed
under the same name is caught too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.embed import PROBE_TOLERANCE, Embedder, fingerprint
from index.errors import IndexMismatchError
from index.store.meta import SCHEMA_VERSION, IndexMeta
from index.text.chunking import ChunkSettings


@dataclass(frozen=True)
class Space:
    """An embedding space: which model, how many dimensions, and its probe embedding."""

    model_id: str
    dim: int
    probe: tuple[float, ...]

    @classmethod
    def of(cls, embedder: Embedder, probe: Sequence[float] | None = None) -> Space:
        """The space of `embedder` (`probe`: its fingerprint, when already computed)."""
        return cls(embedder.model_id, embedder.dim, tuple(fingerprint(embedder) if probe is None else probe))

    @classmethod
    def recorded(cls, meta: IndexMeta) -> Space:
        return cls(meta.model_id, meta.dim, tuple(meta.probe))


def same_space(a: Space, b: Space) -> bool:
    """Whether vectors made in space `a` may stand for vectors made in space `b`."""
    return (a.model_id, a.dim) == (b.model_id, b.dim) and len(a.probe) == len(b.probe) > 0 and all(
        abs(x - y) <= PROBE_TOLERANCE for x, y in zip(a.probe, b.probe, strict=True))


def check_search(meta: IndexMeta, embedder: Embedder, probe: Sequence[float] | None = None) -> None:
    """Raise IndexMismatchError unless `embedder` (whose fingerprint is `probe`, when already
    computed) may query the index `meta` describes."""
    if meta.schema_version != SCHEMA_VERSION:
        raise IndexMismatchError(f"the index uses schema {meta.schema_version}, this version reads {SCHEMA_VERSION}")
    if meta.model_id != embedder.model_id or meta.dim != embedder.dim:
        raise IndexMismatchError(
            f"the index was built with model {meta.model_id} ({meta.dim} dims) but {embedder.model_id} "
            f"({embedder.dim} dims) is configured; set the model back, or rebuild")
    # An index written before probes were recorded has none; the id and size are all there is to check.
    if meta.probe and not same_space(Space.recorded(meta), Space.of(embedder, probe)):
        raise IndexMismatchError(f"the configured model {embedder.model_id} embeds differently from the one that "
                                 "built the index (same name and size, other weights?)")


def check_chunking(meta: IndexMeta, chunking: ChunkSettings) -> None:
    """Raise IndexMismatchError unless the index was cut with `chunking`."""
    for name, built, asked in (("chunk_size", meta.chunk_size, chunking.size),
                               ("chunk_overlap", meta.chunk_overlap, chunking.overlap)):
        if built != asked:
            raise IndexMismatchError(f"the index was built with {name} {built} but {asked} is configured; "
                                     f"drop the {name} setting, or rebuild")


def check_update(meta: IndexMeta, embedder: Embedder, chunking: ChunkSettings,
                 probe: Sequence[float] | None = None) -> None:
    """An update adds chunks cut and embedded now to chunks of the index: both must be alike."""
    check_search(meta, embedder, probe)
    check_chunking(meta, chunking)


def chunking_of(meta: IndexMeta) -> ChunkSettings:
    return ChunkSettings(meta.chunk_size, meta.chunk_overlap)
