"""Honest facets: only candidates near the best score are counted."""

from __future__ import annotations

import numpy as np

from search.facets import RELEVANT_SHARE, facets, relevant_count


def test_relevant_count_keeps_the_candidates_near_the_best():
    scores = np.array([0.9, 0.85, 0.5, 0.3, 0.1])
    # floor 0.1, best 0.9: the cut is 0.1 + share × 0.8
    cut = 0.1 + RELEVANT_SHARE * 0.8
    assert relevant_count(scores, 0.1) == int(np.sum(scores >= cut))
    assert relevant_count(scores, 0.1, share=0.0) == 5
    assert relevant_count(scores, 0.1, share=1.0) == 1


def test_relevant_count_edges():
    assert relevant_count(np.zeros(0), 0.0) == 0
    assert relevant_count(np.array([0.4, 0.4, 0.4]), 0.4) == 3  # nothing tells them apart
    assert relevant_count(np.array([0.2]), 0.2) == 1


def test_facets_depth_is_the_number_counted():
    rows = [
        ("a", "自治体通信", "2023-01-02", ("東京都",)),
        ("b", "J-LIS", None, ("東京都", "大分県")),
    ]
    got = facets(rows)
    assert got["depth"] == 2
    assert got["prefecture"] == [{"name": "東京都", "count": 2}, {"name": "大分県", "count": 1}]
    assert got["year"] == [{"name": "2023", "count": 1}]
