"""The dense FAISS layer on small clustered data: exact flat search, approximate recall, filters, persistence."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from indexer.stores.faiss import vectors

DIM, ROWS, CLUSTERS, K = 64, 8_000, 40, 10


def _normalised(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """ROWS unit vectors around CLUSTERS random centres, and 100 queries drawn around the same centres."""
    rng = np.random.default_rng(7)
    centres = _normalised(rng.standard_normal((CLUSTERS, DIM)))
    data = _normalised(
        centres[rng.integers(CLUSTERS, size=ROWS)] + 0.08 * rng.standard_normal((ROWS, DIM))
    )
    queries = _normalised(
        centres[rng.integers(CLUSTERS, size=100)] + 0.08 * rng.standard_normal((100, DIM))
    )
    return data, queries


@pytest.fixture(scope="module")
def indexes(clustered) -> dict[str, faiss.Index]:
    data, _ = clustered
    return {kind: vectors.build(data, kind) for kind in vectors.KINDS}


def exact(
    data: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None = None
) -> np.ndarray:
    rows = np.arange(len(data)) if rows is None else rows
    scores = data[rows] @ query
    return rows[np.argsort(-scores, kind="stable")[:k]]


def recall(
    index: faiss.Index, data: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None = None
) -> float:
    hits = [
        len(
            set(vectors.search(index, q, K, allowed)[1].tolist())
            & set(exact(data, q, K, allowed).tolist())
        )
        for q in queries
    ]
    return sum(hits) / (K * len(queries))


def test_flat_search_returns_the_exact_top_k(clustered, indexes):
    data, queries = clustered
    for query in queries[:20]:
        scores, rows = vectors.search(indexes["flat"], query, K)
        assert rows.tolist() == exact(data, query, K).tolist()
        np.testing.assert_allclose(scores, data[rows] @ query, rtol=1e-5, atol=1e-5)
        assert np.all(np.diff(scores) <= 1e-7)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_kind_reaches_recall_at_10(clustered, indexes, kind):
    data, queries = clustered
    assert recall(indexes[kind], data, queries) >= 0.95


def test_ivf_really_prunes_lists(clustered, indexes, monkeypatch):
    data, queries = clustered
    index = indexes["ivf"]
    assert isinstance(index, faiss.IndexIVFFlat)
    assert index.nlist == vectors.ivf_lists(ROWS) and index.nprobe < index.nlist
    # even probing 1/16 of the lists stays above the bar on clustered data: the coarse quantizer works
    monkeypatch.setattr(vectors, "IVF_NPROBE", max(1, index.nlist // 16))
    few = vectors.build(data, "ivf")
    assert few.nprobe == max(1, index.nlist // 16)
    assert recall(few, data, queries) >= 0.95


@pytest.mark.parametrize("kind", vectors.KINDS)
@pytest.mark.parametrize("allowed_count", [K, 100, ROWS // 20, ROWS // 2])
def test_filtered_search_returns_exactly_k_allowed_rows(clustered, indexes, kind, allowed_count):
    data, queries = clustered
    allowed = np.sort(
        np.random.default_rng(allowed_count).choice(ROWS, allowed_count, replace=False)
    )
    member = set(allowed.tolist())
    for query in queries[:20]:
        scores, rows = vectors.search(indexes[kind], query, K, allowed)
        assert len(rows) == K and len(set(rows.tolist())) == K
        assert set(rows.tolist()) <= member
        np.testing.assert_allclose(scores, data[rows] @ query, rtol=1e-5, atol=1e-5)
    assert recall(indexes[kind], data, queries[:20], allowed) >= (1.0 if kind == "flat" else 0.95)


@pytest.mark.parametrize("kind", vectors.KINDS)
def test_filter_smaller_than_k_returns_every_allowed_row(indexes, clustered, kind):
    _, queries = clustered
    allowed = np.array([3, 500, 7_999])
    scores, rows = vectors.search(indexes[kind], queries[0], K, allowed)
    assert sorted(rows.tolist()) == allowed.tolist()
    assert vectors.search(indexes[kind], queries[0], K, np.zeros(0, np.int64))[1].size == 0


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_filter_the_approximate_pass_misses_falls_back_to_exhaustive(clustered, monkeypatch, kind):
    """Allowed rows all far from the query: the probed lists / visited graph hold too few, yet k come back."""
    data, queries = clustered
    monkeypatch.setattr(vectors, "EXACT_ALLOWED_MAX", 0)
    monkeypatch.setattr(vectors, "IVF_NPROBE", 1)
    monkeypatch.setattr(vectors, "HNSW_EF_SEARCH", 16)
    index = vectors.build(data, kind)
    query = queries[0]
    far = np.argsort(data @ query)[:300]  # the 300 rows least like the query
    allowed = np.sort(far)
    scores, rows = vectors.search(index, query, K, allowed)
    assert len(rows) == K and set(rows.tolist()) <= set(allowed.tolist())
    assert rows.tolist() == exact(data, query, K, allowed).tolist()


@pytest.mark.parametrize("kind", vectors.KINDS)
def test_save_load_round_trip_keeps_results(clustered, indexes, kind, tmp_path):
    data, queries = clustered
    index = indexes[kind]
    vectors.save(index, tmp_path)
    loaded = vectors.load(tmp_path)
    assert type(loaded) is type(index) and loaded.ntotal == ROWS
    allowed = np.arange(0, ROWS, 7)
    for query in queries[:10]:
        for subset in (None, allowed):
            before, after = (
                vectors.search(index, query, K, subset),
                vectors.search(loaded, query, K, subset),
            )
            assert after[1].tolist() == before[1].tolist()
            np.testing.assert_allclose(after[0], before[0], rtol=1e-6)
    # the engine re-scores candidates from the stored vectors
    np.testing.assert_allclose(
        loaded.reconstruct_batch(np.array([0, 4_321, ROWS - 1])),
        data[[0, 4_321, ROWS - 1]],
        atol=1e-6,
    )
    if kind == "ivf":
        assert loaded.nprobe == index.nprobe
    if kind == "hnsw":
        assert loaded.hnsw.efSearch == vectors.HNSW_EF_SEARCH


def test_kind_for_switches_at_the_threshold():
    assert vectors.kind_for(0) == vectors.kind_for(vectors.APPROX_FROM - 1) == "flat"
    assert (
        vectors.kind_for(vectors.APPROX_FROM) == vectors.kind_for(10 * vectors.APPROX_FROM) == "ivf"
    )
    assert vectors.APPROX_KIND == "ivf"


def test_build_without_kind_follows_kind_for(clustered, monkeypatch):
    data, _ = clustered
    assert isinstance(vectors.build(data[:500]), faiss.IndexFlatIP)
    monkeypatch.setattr(vectors, "APPROX_FROM", 1_000)
    assert isinstance(vectors.build(data[:999]), faiss.IndexFlatIP)
    assert isinstance(vectors.build(data[:1_000]), faiss.IndexIVFFlat)


def test_empty_and_unknown_kinds():
    empty = vectors.build(np.zeros((0, DIM), np.float32))
    assert empty.ntotal == 0 and vectors.search(empty, np.ones(DIM, np.float32), K)[1].size == 0
    with pytest.raises(ValueError):
        vectors.build(np.zeros((3, DIM), np.float32), "pq")
