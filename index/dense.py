"""Dense search with FAISS over unit vectors (inner product = cosine).

Small indexes are exact (`IndexFlatIP`). Past `EXACT_LIMIT` vectors an exact scan costs tens of
milliseconds a query, so the index switches to IVF with enough probes to keep recall@10 high; the
vectors themselves stay in vectors.npy, so the FAISS file can always be rebuilt from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

EXACT_LIMIT = 200_000


def build_dense(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> Any:
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    index: Any
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim or 1)
        if n:
            index.add(vectors)
        return index
    nlist = int(4 * np.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)]
    index.train(sample)
    index.add(vectors)
    index.nprobe = max(16, nlist // 64)
    return index


def save_dense(index, path: Path) -> None:  # type: ignore[no-untyped-def]
    import faiss

    faiss.write_index(index, str(path))


def load_dense(path: Path) -> Any:
    import faiss

    index: Any = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = max(16, index.nlist // 64)
    return index


def search_dense(index, query: np.ndarray, k: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """Top `k` (chunk id, cosine) for one unit query vector."""
    k = min(k, index.ntotal)
    if k <= 0:
        return []
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
