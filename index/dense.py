"""Dense search with FAISS over unit vectors (inner product = cosine).

Small indexes are exact (`IndexFlatIP`). Past `EXACT_LIMIT` vectors an exact scan costs tens of
milliseconds a query, so the index switches to IVF with enough probes to keep recall@10 high; the
vectors themselves stay in vectors.npy, so the FAISS file can always be rebuilt from them.

The numbers below come from bench/scale.py (384-dim vectors around the real squad_it_dev
embeddings, real questions as queries, 2 busy cores, one search thread):
- An exact scan takes 0.4 ms a query at 10k vectors, 7 ms at 100k, 17 ms at 200k and 77 ms at 1M,
  beside about 15 ms for embedding the question, against a 60 ms p95 budget for the whole search.
  So the switch is at 100k, where IVF would already find 0.976 of the exact top 10.
- nlist = 2 sqrt(n) rather than 4 sqrt(n): at 1M, 2,000 lists train in about 20 s on 80k sampled
  vectors where 4,000 lists took about 140 s on 256k, and adding the vectors is cheaper too; a query
  scans more vectors per list (3 ms at 64 probes), small beside embedding and BM25.
- Recall followed the number of probes more than their share of the lists: with 64 probes, 0.968
  of the exact top 10 at 200k (894 lists) and 0.981 at 1M (2,000 lists); with 32, 0.93-0.96. So
  at least 64 lists are probed, and 1/32 of them for larger indexes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

EXACT_LIMIT = 100_000
MIN_NPROBE = 64
TRAIN_PER_LIST = 40  # sampled training vectors per list; FAISS warns below 39


def nlist_for(n: int) -> int:
    return max(1, int(2 * np.sqrt(n)))


def nprobe_for(nlist: int) -> int:
    """Lists probed per query; one rule for build and load, so a loaded index searches as built."""
    return min(nlist, max(MIN_NPROBE, nlist // 32))


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
    nlist = nlist_for(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    # Training on a sample keeps k-means at 1M vectors to seconds; the centroids barely change.
    sample = vectors[np.random.default_rng(0).choice(n, size=min(n, TRAIN_PER_LIST * nlist), replace=False)]
    index.train(sample)
    index.add(vectors)
    index.nprobe = nprobe_for(nlist)
    return index


def save_dense(index, path: Path) -> None:  # type: ignore[no-untyped-def]
    import faiss

    faiss.write_index(index, str(path))


def load_dense(path: Path) -> Any:
    import faiss

    index: Any = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = nprobe_for(index.nlist)
    return index


def search_dense(index, query: np.ndarray, k: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """Top `k` (chunk id, cosine) for one unit query vector, searched on the calling thread alone.

    FAISS spreads even a single query over its OpenMP threads. On a busy machine a thread that waits
    at a barrier for a descheduled partner made an exact search of 10k vectors take 15-35 ms instead
    of 0.4 ms, and of 100k 92 ms instead of 22 ms (2 cores, load 6; bench/scale.py). The setting is
    restored after the search, so a build in the same process still trains on every core.
    """
    import faiss

    k = min(k, index.ntotal)
    if k <= 0:
        return []
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    finally:
        faiss.omp_set_num_threads(threads)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
