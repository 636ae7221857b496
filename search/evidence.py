"""Query-word evidence beside BM25: the IDF share of the query's words a passage holds, their adjacent pairs, and
the longest stretch of the query it writes out."""
from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np

from indexer import lexical, postings
from indexer.normalize import lexical_form

QUERY_POS = frozenset(("名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞"))


def query_words(query: str) -> tuple[str, ...]:
    """The query's SudachiPy mode C content words (no particles, auxiliaries or symbols), first occurrence first."""
    found = [m.surface() for m in lexical.morphemes(lexical_form(query))
             if m.part_of_speech()[0] in QUERY_POS and any(c.isalnum() for c in m.surface())]
    return tuple(dict.fromkeys(found))


def idf_weights(words: tuple[str, ...], stats: postings.Stats) -> np.ndarray:
    """Each query word's BM25 IDF over the live rows: how much finding it counts."""
    return np.array([postings.idf(stats.df.get(w, 0), stats.rows) for w in words], np.float64)


def coverage(words: tuple[str, ...], weights: np.ndarray, text: str) -> float:
    """Share of the query words' weight (their IDF) found in the passage's lexical form."""
    total = float(weights.sum())
    return sum(float(w) for word, w in zip(words, weights) if word in text) / total if total > 0 else 0.0


def proximity(words: tuple[str, ...], text: str) -> float:
    """Share of adjacent query-word pairs found side by side (「窓口」「キャッシュレス」 → 窓口キャッシュレス)."""
    pairs = [a + b for a, b in zip(words, words[1:])]
    return sum(p in text for p in pairs) / len(pairs) if pairs else 0.0


def phrase(matcher: SequenceMatcher, query: str, text: str) -> float:
    """Share of the query (lexical form) written out in one stretch of the passage: its longest common substring.
    `matcher` holds the query as its second sequence, so the query's index is built once per search."""
    matcher.set_seq1(text)
    return matcher.find_longest_match(0, len(text), 0, len(query)).size / len(query) if query else 0.0


def scores(query: str, words: tuple[str, ...], weights: np.ndarray, texts: list[str]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IDF-weighted coverage, pair proximity and phrase share of each candidate passage (texts as stored)."""
    forms = [lexical_form(t) for t in texts]
    asked = lexical_form(query)
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(asked)
    return (np.array([coverage(words, weights, f) for f in forms], np.float64),
            np.array([proximity(words, f) for f in forms], np.float64),
            np.array([phrase(matcher, asked, f) for f in forms], np.float64))
