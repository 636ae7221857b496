"""Queries embedded together give the vectors they get alone; one bad query fails only itself."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from common.errors import UserError
from search.batcher import QueryBatcher

QUERIES = ["窓口キャッシュレスの事例", "LINEで行政手続き", "ガバメントクラウドへの移行", "RPA 給与計算",
           "書かない窓口", "How do cities go paperless?", "高齢者のスマホ教室", "電子契約の導入",
           "オンライン申請", "AI-OCR で手書き書類を読み取る", "テレワーク", "公共施設の予約システム"]


@pytest.fixture()
def batcher(embedder):
    batcher = QueryBatcher(embedder, max_batch=8, window=0.002)
    yield batcher
    batcher.close()


def test_queries_submitted_together_share_forward_passes_and_match_lone_vectors(batcher, embedder):
    alone = np.stack([embedder.encode_queries([q])[0] for q in QUERIES])
    futures = [batcher.submit(q) for q in QUERIES]  # queued at once: the embedding thread finds company
    together = np.stack([f.result(timeout=60) for f in futures])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert batcher.queries == len(QUERIES) and batcher.batches < len(QUERIES) and 1 < batcher.largest <= 8


def test_concurrent_threads_each_get_their_own_vector(batcher, embedder):
    alone = {q: embedder.encode_queries([q])[0] for q in QUERIES}
    results: dict[str, np.ndarray] = {}
    barrier = threading.Barrier(len(QUERIES))

    def ask(q: str) -> None:
        barrier.wait()
        results[q] = batcher.encode_queries([q])[0]

    threads = [threading.Thread(target=ask, args=(q,)) for q in QUERIES]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert set(results) == set(QUERIES)
    for q in QUERIES:
        np.testing.assert_allclose(results[q], alone[q], atol=1e-5)


def test_a_bad_query_in_a_batch_fails_only_itself(batcher, embedder):
    bad = "窓口\ud800"  # a lone surrogate: the tokenizer cannot take it
    futures = [batcher.submit(q) for q in (QUERIES[0], bad, QUERIES[1], QUERIES[2])]
    with pytest.raises(UserError) as caught:
        futures[1].result(timeout=60)
    assert caught.value.field == "q" and caught.value.status == 422 and caught.value.ja and caught.value.en
    good = [futures[0], futures[2], futures[3]]
    expected = embedder.encode_queries([QUERIES[0], QUERIES[1], QUERIES[2]])
    np.testing.assert_allclose(np.stack([f.result(timeout=60) for f in good]), expected, atol=1e-5)
    assert batcher.submit(QUERIES[3]).result(timeout=60).shape == (embedder.info.dimension,)  # still serving


def test_a_lone_query_is_a_batch_of_one(batcher):
    batcher.submit(QUERIES[0]).result(timeout=60)
    before = batcher.batches
    batcher.submit(QUERIES[1]).result(timeout=60)
    assert batcher.batches == before + 1 and batcher.stats()["queries"] == 2


def test_after_close_queries_are_still_answered_directly(embedder):
    batcher = QueryBatcher(embedder)
    future = batcher.submit(QUERIES[0])
    batcher.close()
    assert future.result(timeout=60).shape == (embedder.info.dimension,)  # queued before close: answered
    late = batcher.encode_queries([QUERIES[1]])
    np.testing.assert_allclose(late, embedder.encode_queries([QUERIES[1]]), atol=1e-6)
    assert not batcher._thread.is_alive()
