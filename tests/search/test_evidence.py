"""Query-word evidence: SudachiPy query words, IDF-weighted coverage, adjacent pairs, and the engine's switch."""
import numpy as np
import pytest

from search import evidence, fusion
from search.engine import Engine


def test_query_words_are_content_words_without_particles():
    assert evidence.query_words("窓口キャッシュレスの事例") == ("窓口", "キャッシュレス", "事例")
    assert evidence.query_words("LINEで申請できる区") == ("line", "申請", "できる", "区")
    assert evidence.query_words("の、は。") == ()


def test_coverage_counts_each_word_by_its_weight():
    words, weights = ("窓口", "キャッシュレス", "事例"), np.array([1.0, 3.0, 1.0])
    assert evidence.coverage(words, weights, "窓口でキャッシュレス決済") == pytest.approx(0.8)
    assert evidence.coverage(words, weights, "電子申請") == 0.0
    assert evidence.coverage((), np.zeros(0), "窓口") == 0.0


def test_proximity_counts_adjacent_pairs_written_together():
    words = ("窓口", "キャッシュレス", "事例")
    assert evidence.proximity(words, "窓口キャッシュレスの事例") == 0.5
    assert evidence.proximity(words, "窓口キャッシュレス事例集") == 1.0
    assert evidence.proximity(("窓口",), "窓口") == 0.0


def test_evidence_keeps_scores_within_one():
    fused = np.array([1.0, 0.5, 0.0])
    total = fusion.with_evidence(fused, np.array([1.0, 0.0, 0.5]), np.array([1.0, 0.0, 0.0]))
    assert total[0] == pytest.approx(1.0) and total.max() <= 1.0 and total[2] > 0


def test_word_evidence_is_off_by_default_and_reorders_when_on(bundled_index, embedder, gazetteer):
    plain = Engine(bundled_index, embedder, gazetteer)
    on = Engine(bundled_index, embedder, gazetteer, word_evidence=True)
    query = "窓口キャッシュレスの事例"
    a, b = plain.search(query, 10), on.search(query, 10)
    assert not plain.word_evidence and on.word_evidence
    assert {p["id"] for p in a["passages"]} & {p["id"] for p in b["passages"]}
    scores_a = [p["score"] for p in a["passages"]]
    scores_b = [p["score"] for p in b["passages"]]
    assert scores_a != scores_b and max(scores_b) <= 1.0
    words = evidence.query_words(query)
    top = b["passages"][0]["text"]
    assert sum(w in top for w in words) >= 2
