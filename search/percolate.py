"""Percolation: new passages scored against stored queries (dense cosine and the IDF share of the query's words),
O(new passages × stored queries), never a search over the archive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.analysis.normalize import lexical_form
from indexer.stores.base import Filters
from search import evidence

# A passage answers a stored query when both hold (benchmarks/saved_searches.py, part calibrate: on the 14 dev queries
# × 171 bundled passages, the pair with the best F1 (0.51: precision 1.00, recall 0.35) for "a passage whose subject
# is a municipality the dev file grades relevant"; the dense cosine alone stayed over 0.1 below that F1).
DENSE_MIN = 0.845
COVERAGE_MIN = 0.75


@dataclass(frozen=True)
class StoredQuery:
    """A saved search as percolation needs it: the query's vector, its content words with their IDF, its filters."""

    id: str
    vector: np.ndarray
    words: tuple[str, ...]
    weights: np.ndarray
    filters: Filters


@dataclass(frozen=True)
class NewPassage:
    """A passage of a newly written article, with what the filters look at."""

    id: str
    article_id: str
    text: str
    vector: np.ndarray
    source: str
    published: str | None
    places: tuple[tuple[str, str], ...]  # (code, prefecture) of the places it names


@dataclass(frozen=True)
class Match:
    query_id: str
    passage: NewPassage
    dense: float
    coverage: float


def query_parts(query: str, stats) -> tuple[tuple[str, ...], np.ndarray]:
    """The query's content words and their IDF over the index's live rows (fixed when the search is saved)."""
    words = evidence.query_words(query)
    return words, (evidence.idf_weights(words, stats) if words else np.zeros(0, np.float64))


def passes(filters: Filters, passage: NewPassage) -> bool:
    """Whether a passage satisfies checked filters (as `/search` applies them)."""
    if filters.source and passage.source != filters.source:
        return False
    if filters.date_from and (not passage.published or passage.published < filters.date_from):
        return False
    if filters.date_to and (not passage.published or passage.published > filters.date_to):
        return False
    if filters.prefecture and filters.prefecture not in {p for _, p in passage.places}:
        return False
    if filters.municipality:
        code = filters.municipality
        if not any(c == code or c[:5] == code[:5] for c, _ in passage.places):
            return False
    return True


def matrix(queries: list[StoredQuery]) -> np.ndarray:
    """The stored queries' vectors as one matrix, a row each (kept by the caller between writes)."""
    return np.stack([q.vector for q in queries]) if queries else np.zeros((0, 0), np.float32)


def percolate(
    queries: list[StoredQuery],
    passages: list[NewPassage],
    dense_min: float = DENSE_MIN,
    coverage_min: float = COVERAGE_MIN,
    vectors: np.ndarray | None = None,
) -> list[Match]:
    """Every (stored query, new passage) pair that matches: one matrix product for the dense side (`vectors`:
    `matrix(queries)`, made here when not given), then the word share only where the dense score already passes."""
    if not queries or not passages:
        return []
    stored = matrix(queries) if vectors is None else vectors
    dense = np.stack([p.vector for p in passages]) @ stored.T
    forms = [lexical_form(p.text) for p in passages]
    found = []
    for i, j in zip(*np.nonzero(dense >= dense_min)):
        query, passage = queries[j], passages[i]
        share = evidence.coverage(query.words, query.weights, forms[i]) if query.words else 1.0
        if share >= coverage_min and passes(query.filters, passage):
            found.append(Match(query.id, passage, float(dense[i, j]), share))
    return found
