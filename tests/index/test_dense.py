"""The dense index: exact up to a size, IVF past it, with recall kept and nprobe restored on load."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index.dense import build_dense, load_dense, nprobe_for, save_dense, search_dense

DIM = 32


def clustered(n: int, seed: int = 0, clusters: int = 60) -> np.ndarray:
    """Unit vectors in Gaussian clusters of uneven size, like embeddings of a corpus of topics."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, DIM)).astype(np.float32)
    weights = rng.pareto(1.5, clusters) + 0.1
    which = rng.choice(clusters, size=n, p=weights / weights.sum())
    x = centers[which] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall_at_10(index: faiss.Index, data: np.ndarray, queries: np.ndarray) -> float:
    exact = faiss.IndexFlatIP(DIM)
    exact.add(data)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return clustered(6000)


@pytest.fixture(scope="module")
def queries(data: np.ndarray) -> np.ndarray:
    # Held-out points from the same distribution, as questions are to the chunks that answer them.
    return clustered(200, seed=1)


def test_exact_up_to_the_limit_approximate_past_it(data: np.ndarray) -> None:
    at_limit = build_dense(data[:3000], exact_limit=3000)
    past = build_dense(data[:3001], exact_limit=3000)
    assert isinstance(at_limit, faiss.IndexFlatIP) and at_limit.ntotal == 3000
    assert isinstance(past, faiss.IndexIVFFlat) and past.ntotal == 3001
    assert past.nprobe == nprobe_for(past.nlist)


def test_empty_index_is_exact_and_searches_to_nothing() -> None:
    index = build_dense(np.zeros((0, DIM), dtype=np.float32))
    assert index.ntotal == 0 and search_dense(index, np.ones(DIM, dtype=np.float32), 5) == []


def test_ivf_recall_at_10_is_at_least_095_of_exact(data: np.ndarray, queries: np.ndarray) -> None:
    index = build_dense(data, exact_limit=1000)
    assert isinstance(index, faiss.IndexIVFFlat)
    assert recall_at_10(index, data, queries) >= 0.95
    # The data is hard enough for the check to mean something: probing one list misses neighbours.
    index.nprobe = 1
    assert recall_at_10(index, data, queries) < 0.95


def test_load_restores_nprobe_and_results(tmp_path: Path, data: np.ndarray, queries: np.ndarray) -> None:
    index = build_dense(data, exact_limit=1000)
    built = index.nprobe
    index.nprobe = 1  # as if saved by a version with another setting
    save_dense(index, tmp_path / "dense.faiss")
    loaded = load_dense(tmp_path / "dense.faiss")
    assert isinstance(loaded, faiss.IndexIVFFlat) and loaded.nprobe == built
    index.nprobe = built
    for q in queries[:20]:
        assert search_dense(loaded, q, 10) == search_dense(index, q, 10)


def test_search_runs_on_one_thread_and_restores_the_setting(data: np.ndarray, queries: np.ndarray) -> None:
    index = build_dense(data)
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)  # so that the check means something on a one-core machine too
    seen: list[int] = []
    real_search = index.search

    def spying(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        seen.append(faiss.omp_get_max_threads())
        return real_search(x, k)

    index.search = spying
    hits = search_dense(index, queries[0], 10)
    assert seen == [1] and faiss.omp_get_max_threads() == 2
    faiss.omp_set_num_threads(before)
    _, ids = real_search(queries[:1], 10)
    assert [i for i, _ in hits] == ids[0].tolist()
