"""Facets of an answer: how many articles among the candidates relevant to the question come from each prefecture, source and year."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

FACET_DEPTH = 100  # candidates looked at: the best-fused rows that passed the filters
FACET_SIZE = 20  # values shown per facet
# A candidate counts when its final score, scaled so the weakest candidate read is 0 and the best is 1, is at
# least this share of the way up (benchmarks/facets_on_topic.py: on the dev queries over the bundled corpus it
# keeps the facet-narrowed answers on topic, where all 100 candidates counted nearly every article).
RELEVANT_SHARE = 0.7


def relevant_count(scores: np.ndarray, floor: float, share: float = RELEVANT_SHARE) -> int:
    """How many of the best-first `scores` are relevant: within `share` of the way from `floor` (the weakest
    candidate's score) to the best; at least the best one when there is any."""
    if scores.size == 0:
        return 0
    best = float(scores[0])
    if best - floor < 1e-12:
        return int(scores.size)  # all equal: nothing tells them apart
    return max(1, int(np.count_nonzero((scores - floor) >= share * (best - floor))))


def counted(pairs: Iterable[tuple[str, str]], size: int = FACET_SIZE) -> list[dict]:
    """Distinct articles per value, most first (ties by name)."""
    articles: dict[str, set[str]] = defaultdict(set)
    for value, article in pairs:
        if value:
            articles[value].add(article)
    ranked = sorted(articles.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"name": name, "count": len(ids)} for name, ids in ranked[:size]]


def facets(
    rows: list[tuple[str, str, str | None, tuple[str, ...]]], depth: int | None = None
) -> dict:
    """Prefecture, source and year facets over (article id, source, published, prefectures) of the counted
    candidates; `depth` is how many candidates were counted (their number by default)."""
    return {
        "prefecture": counted((p, a) for a, _, _, places in rows for p in places),
        "source": counted((s, a) for a, s, _, _ in rows),
        "year": counted(((d or "")[:4], a) for a, _, d, _ in rows),
        "depth": len(rows) if depth is None else depth,
    }
