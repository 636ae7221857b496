"""Query-word evidence: SudachiPy query words, IDF-weighted coverage, adjacent pairs, phrase, and the engine's switch."""

from difflib import SequenceMatcher

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_phrase_is_the_longest_stretch_of_the_query_written_out():
    query = "窓口キャッシュレスの事例"
    assert evidence.phrase(query, "宇佐市は窓口キャッシュレスを始めた") == pytest.approx(9 / 12)
    assert evidence.phrase(query, "窓口での事例") == pytest.approx(3 / 12)
    assert evidence.phrase(query, "電子申請") == 0.0
    assert evidence.phrase("", "窓口") == 0.0


@settings(max_examples=300, deadline=None)
@given(
    st.text("窓口キャッシュレスの事例市区", max_size=14),
    st.text("窓口キャッシュレスの事例市区町村", max_size=60),
)
def test_phrase_agrees_with_difflib_longest_match(query, text):
    match = SequenceMatcher(None, text, query, autojunk=False).find_longest_match(
        0, len(text), 0, len(query)
    )
    assert evidence.phrase(query, text) == (match.size / len(query) if query else 0.0)


def test_scores_normalise_query_and_passages_alike():
    words = evidence.query_words("ＬＩＮＥで申請")
    coverage, pairs, phrase = evidence.scores(
        "ＬＩＮＥで申請", words, np.ones(len(words)), ["LINEで申請できる", "郵送"]
    )
    assert (
        list(coverage) == [1.0, 0.0] and phrase[0] == 1.0 and phrase[1] == 0.0 and pairs[1] == 0.0
    )


def test_evidence_adds_only_to_the_chosen_and_stays_within_one():
    fused = np.array([1.0, 0.5, 0.4, 0.3])
    chosen = np.array([0, 1, 2])
    parts = (np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.0]), np.array([0.2, 0.4, 0.1]))
    total = fusion.with_evidence(fused, chosen, parts)
    assert total.max() <= 1.0 and total[1] > total[0] > total[2] > total[3]
    assert total[3] == pytest.approx(0.3 / (1 + 0.5 + 0.1 + 0.4))


def test_word_evidence_is_on_by_default_and_reorders(bundled_index, embedder, gazetteer):
    plain = Engine(bundled_index, embedder, gazetteer, word_evidence=False)
    on = Engine(bundled_index, embedder, gazetteer)
    query = "窓口キャッシュレスの事例"
    a, b = plain.search(query, 10), on.search(query, 10)
    assert on.word_evidence and not plain.word_evidence
    assert {p["id"] for p in a["passages"]} & {p["id"] for p in b["passages"]}
    scores_a = [p["score"] for p in a["passages"]]
    scores_b = [p["score"] for p in b["passages"]]
    assert scores_a != scores_b and max(scores_b) <= 1.0
    words = evidence.query_words(query)
    top = b["passages"][0]["text"]
    assert sum(w in top for w in words) >= 2


def test_english_queries_fuse_without_word_evidence(bundled_index, embedder, gazetteer):
    query = "chatbot answering questions about COVID-19"
    plain = Engine(bundled_index, embedder, gazetteer, word_evidence=False).search(query, 10)
    on = Engine(bundled_index, embedder, gazetteer).search(query, 10)
    assert [p["score"] for p in plain["passages"]] == [p["score"] for p in on["passages"]]


def test_a_page_of_ten_is_the_first_ten_of_a_page_of_fifty(bundled_index, embedder, gazetteer):
    engine = Engine(bundled_index, embedder, gazetteer)
    for query in (
        "窓口キャッシュレスの事例",
        "LINE公式アカウントで行政手続きができる区",
        "chatbot for COVID-19",
    ):
        ten, fifty = engine.search(query, 10), engine.search(query, 50)
        assert len(fifty["passages"]) > 10
        assert [(p["id"], p["score"]) for p in ten["passages"]] == [
            (p["id"], p["score"]) for p in fifty["passages"][:10]
        ]
