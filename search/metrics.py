"""Retrieval metrics over ranked ids and graded relevance: small pure functions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant ids found in the first k."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant id within the first k."""
    return next((1.0 / (i + 1) for i, item in enumerate(ranked[:k]) if item in relevant), 0.0)


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain with graded relevance."""
    gain = sum(
        (2 ** relevant.get(item, 0) - 1) / math.log2(i + 2) for i, item in enumerate(ranked[:k])
    )
    ideal = sum(
        (2**g - 1) / math.log2(i + 2)
        for i, g in enumerate(sorted(relevant.values(), reverse=True)[:k])
    )
    return gain / ideal if ideal else 0.0


def hit_at(ranked_groups: Sequence[Sequence[str]], wanted: set[str], k: int) -> float:
    """1 when any of the first k groups (a passage's places) holds a wanted id."""
    return float(any(set(group) & wanted for group in ranked_groups[:k]))


def dedupe(items: Sequence[str]) -> list[str]:
    """First occurrences only, order kept."""
    return list(dict.fromkeys(items))


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
