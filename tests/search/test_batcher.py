"""Queries embedded together give the vectors they get alone; one bad query fails only itself."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from common.errors import UserError
from search.batcher import QueryBatcher

QUERIES = [
    "窓口キャッシュレスの事例",
    "LINEで行政手続き",
    "ガバメントクラウドへの移行",
    "RPA 給与計算",
    "書かない窓口",
    "How do cities go paperless?",
    "高齢者のスマホ教室",
    "電子契約の導入",
    "オンライン申請",
    "AI-OCR で手書き書類を読み取る",
    "テレワーク",
    "公共施設の予約システム",
]
LONG = (
    "自治体の窓口業務をデジタル化し、住民の待ち時間を減らす。" * 60
)  # a slow first pass (512 tokens)


def _ask_together(batcher: QueryBatcher, queries: list[str]) -> dict[str, object]:
    """One thread holds the model with a long query while the others arrive; returns each query's vector or error."""
    results: dict[str, object] = {}
    started = threading.Event()

    def ask(q: str) -> None:
        try:
            results[q] = batcher.encode_queries([q])[0]
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[q] = exc

    first = threading.Thread(target=lambda: (started.set(), ask(LONG)))
    first.start()
    started.wait()
    threads = [threading.Thread(target=ask, args=(q,)) for q in queries]
    [t.start() for t in threads]
    [t.join(120) for t in [first, *threads]]
    return results


def test_queries_arriving_together_share_forward_passes_and_match_lone_vectors(embedder):
    batcher = QueryBatcher(embedder, max_batch=8, window=0.002)
    results = _ask_together(batcher, QUERIES)
    assert set(results) == {LONG, *QUERIES}
    for q in QUERIES:
        np.testing.assert_allclose(results[q], embedder.encode_queries([q])[0], atol=1e-5)
    assert (
        batcher.queries == len(QUERIES) + 1
        and batcher.batches < batcher.queries
        and 1 < batcher.largest <= 8
    )


def test_a_bad_query_in_a_batch_fails_only_itself(embedder):
    batcher = QueryBatcher(embedder, max_batch=8, window=0.002)
    bad = "窓口\ud800"  # a lone surrogate: the tokenizer cannot take it
    results = _ask_together(batcher, [QUERIES[0], bad, QUERIES[1], QUERIES[2]])
    assert isinstance(results[bad], UserError)
    assert (
        results[bad].field == "q"
        and results[bad].status == 422
        and results[bad].ja
        and results[bad].en
    )
    for q in (QUERIES[0], QUERIES[1], QUERIES[2]):
        np.testing.assert_allclose(results[q], embedder.encode_queries([q])[0], atol=1e-5)
    assert batcher.largest > 1  # the bad query did share a batch with good ones
    assert batcher.encode_queries([QUERIES[3]]).shape == (
        1,
        embedder.info.dimension,
    )  # still serving


def test_a_lone_query_is_a_batch_of_one_run_by_its_own_thread(embedder):
    batcher = QueryBatcher(embedder)
    seen: list[str] = []
    inner_encode = embedder.encode_queries

    class Watching:
        info = embedder.info

        def encode_queries(self, texts):
            seen.append(threading.current_thread().name)
            return inner_encode(texts)

    batcher.inner = Watching()
    batcher.encode_queries([QUERIES[0]])
    batcher.encode_queries([QUERIES[1]])
    assert batcher.stats()["batches"] == 2 and batcher.largest == 1
    assert seen == [threading.current_thread().name] * 2  # no hand-over to another thread


def test_several_queries_in_one_call_come_back_in_order(embedder):
    batcher = QueryBatcher(embedder, max_batch=4)
    np.testing.assert_allclose(
        batcher.encode_queries(QUERIES), embedder.encode_queries(QUERIES), atol=1e-5
    )
    assert batcher.batches == 3
    with pytest.raises(UserError):
        batcher.encode_queries([QUERIES[0], "\ud800"])
