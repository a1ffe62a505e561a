"""`rag index info`: what the current index holds and how it was built."""

from __future__ import annotations

from typing import Any

from index.store import IndexStore
from rag.settings import Settings


def index_info(settings: Settings) -> dict[str, Any]:
    generation = IndexStore(settings.index_root).open()
    meta = generation.meta
    files = generation.files()
    return {
        "location": str(generation.folder), "model": meta.model_id, "dim": meta.dim,
        "chunk_size": meta.chunk_size, "chunk_overlap": meta.chunk_overlap, "schema_version": meta.schema_version,
        "chunks": meta.n_chunks, "files": len(files), "languages": meta.languages, "sources": meta.sources,
        "size_bytes": generation.size_bytes(), "built_at": meta.built_at, "build_seconds": meta.build_seconds,
        "documents": [{"path": f.path, "chunks": f.n_chunks, "lang": f.lang, "kind": f.kind, "bytes": f.size}
                      for f in files],
        "skipped": meta.skipped,
    }


def info_text(data: dict[str, Any]) -> str:
    lines = [
        f"Index:     {data['location']}",
        f"Sources:   {' '.join(data['sources'])}",
        f"Documents: {data['files']} ({', '.join(data['languages']) or 'language unknown'})",
        f"Chunks:    {data['chunks']} (size {data['chunk_size']} tokens, overlap {data['chunk_overlap']})",
        f"Model:     {data['model']} ({data['dim']} dims)",
        f"On disk:   {data['size_bytes'] / 1024:.1f} KiB",
        f"Built:     {data['built_at']} in {data['build_seconds']:.1f} s",
    ]
    for doc in data["documents"][:20]:
        lines.append(f"  {doc['path']}  {doc['chunks']} chunks, {doc['lang']}")
    if len(data["documents"]) > 20:
        lines.append(f"  … and {len(data['documents']) - 20} more (see --json)")
    if data["skipped"]:
        lines.append(f"Skipped at the last build: {len(data['skipped'])} file(s)")
    return "\n".join(lines)
