"""Facets of an answer: how many articles among the top candidates come from each prefecture, source and year."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

FACET_DEPTH = 100  # candidates counted: the best-fused rows that passed the filters
FACET_SIZE = 20  # values shown per facet


def counted(pairs: Iterable[tuple[str, str]], size: int = FACET_SIZE) -> list[dict]:
    """Distinct articles per value, most first (ties by name)."""
    articles: dict[str, set[str]] = defaultdict(set)
    for value, article in pairs:
        if value:
            articles[value].add(article)
    ranked = sorted(articles.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"name": name, "count": len(ids)} for name, ids in ranked[:size]]


def facets(
    rows: list[tuple[str, str, str | None, tuple[str, ...]]], depth: int = FACET_DEPTH
) -> dict:
    """Prefecture, source and year facets over (article id, source, published, prefectures) of the candidates."""
    return {
        "prefecture": counted((p, a) for a, _, _, places in rows for p in places),
        "source": counted((s, a) for a, s, _, _ in rows),
        "year": counted(((d or "")[:4], a) for a, _, d, _ in rows),
        "depth": depth,
    }
