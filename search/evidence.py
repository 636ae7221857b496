"""Query-word evidence beside BM25: the IDF share of the query's words a passage holds, their adjacent pairs, and
the longest stretch of the query it writes out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.analysis import lexical
from indexer.analysis.normalize import lexical_form
from indexer.stores import bm25
from search.expansion import ADDED_WEIGHT

QUERY_POS = frozenset(("名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞"))


def query_words(query: str) -> tuple[str, ...]:
    """The query's SudachiPy mode C content words (no particles, auxiliaries or symbols), first occurrence first."""
    found = [
        m.surface()
        for m in lexical.morphemes(lexical_form(query))
        if m.part_of_speech()[0] in QUERY_POS and any(c.isalnum() for c in m.surface())
    ]
    return tuple(dict.fromkeys(found))


def idf_weights(words: tuple[str, ...], stats: bm25.Stats) -> np.ndarray:
    """Each query word's BM25 IDF over the live rows: how much finding it counts."""
    return np.array([bm25.idf(stats.df.get(w, 0), stats.rows) for w in words], np.float64)


def coverage(
    words: tuple[str, ...],
    weights: np.ndarray,
    text: str,
    alternates: Sequence[Sequence[str]] = (),
) -> float:
    """Share of the query words' weight (their IDF) found in the passage's lexical form; a word found only as one
    of its alternates (synonyms, variants) counts `ADDED_WEIGHT` of its weight."""
    total = float(weights.sum())
    others = list(alternates) or [()] * len(words)
    found = sum(
        float(w) * (1.0 if word in text else ADDED_WEIGHT if any(a in text for a in alt) else 0.0)
        for word, w, alt in zip(words, weights, others)
    )
    return found / total if total > 0 else 0.0


def proximity(words: tuple[str, ...], text: str) -> float:
    """Share of adjacent query-word pairs found side by side (「窓口」「キャッシュレス」 → 窓口キャッシュレス)."""
    pairs = [a + b for a, b in zip(words, words[1:])]
    return sum(p in text for p in pairs) / len(pairs) if pairs else 0.0


def phrase(query: str, text: str) -> float:
    """Share of the query (lexical form) written out in one stretch of the passage: their longest common substring,
    found by growing the best length so far from each start (a longer match contains a shorter one)."""
    best = 0
    for start in range(len(query)):
        while start + best < len(query) and query[start : start + best + 1] in text:
            best += 1
    return best / len(query) if query else 0.0


def scores(
    query: str,
    words: tuple[str, ...],
    weights: np.ndarray,
    texts: list[str],
    alternates: Sequence[Sequence[str]] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IDF-weighted coverage (alternates of each word counting less), pair proximity and phrase share of each
    candidate passage (texts as stored)."""
    forms = [lexical_form(t) for t in texts]
    asked = lexical_form(query)
    return (
        np.array([coverage(words, weights, f, alternates) for f in forms], np.float64),
        np.array([proximity(words, f) for f in forms], np.float64),
        np.array([phrase(asked, f) for f in forms], np.float64),
    )
