"""Fusion and metric functions on hand-made numbers."""

import numpy as np
import pytest

from search import fusion, metrics


def test_weighted_fusion_mixes_normalised_scores():
    dense = np.array([0.9, 0.8, 0.7])
    lexical = np.array([0.0, 10.0, 5.0])
    fused = fusion.weighted(dense, lexical, dense_weight=0.5)
    assert fused == pytest.approx([0.5, 0.75, 0.25])
    assert list(fusion.top(fused, 2)) == [1, 0]


def test_fusion_of_all_zero_lexical_keeps_dense_order():
    fused = fusion.weighted(np.array([0.3, 0.9, 0.5]), np.zeros(3))
    assert list(fusion.top(fused, 3)) == [1, 2, 0]


def test_rrf_rewards_agreement():
    a, b = np.array([3.0, 2.0, 1.0]), np.array([1.0, 3.0, 2.0])
    assert list(fusion.top(fusion.rrf(a, b), 3)) == [1, 0, 2]


def test_metrics_with_graded_relevance():
    ranked = ["x", "a", "y", "b"]
    relevant = {"a": 2, "b": 1}
    assert (
        metrics.recall_at(ranked, relevant, 1) == 0 and metrics.recall_at(ranked, relevant, 4) == 1
    )
    assert metrics.mrr_at(ranked, relevant, 10) == 0.5
    ideal = 3 / 1 + 1 / np.log2(3)
    assert metrics.ndcg_at(ranked, relevant, 10) == pytest.approx(
        (3 / np.log2(3) + 1 / np.log2(5)) / ideal
    )
    assert (
        metrics.hit_at([["x"], ["y", "a"]], {"a"}, 1) == 0
        and metrics.hit_at([["x"], ["a"]], {"a"}, 2) == 1
    )


def test_a_question_without_japanese_script_leans_on_the_multilingual_model():
    assert fusion.has_japanese("窓口のキャッシュレス") and fusion.has_japanese("LINE で申請")
    assert not fusion.has_japanese("chatbot answering questions about COVID-19")
    assert fusion.dense_weight_for("chatbot for COVID-19", 0.5) == fusion.CROSS_LINGUAL_DENSE_WEIGHT
    assert fusion.dense_weight_for("チャットボット", 0.5) == 0.5
    assert fusion.dense_weight_for("chatbot", 1.0) == 1.0
