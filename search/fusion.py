"""Score fusion of the dense and lexical lists: small pure functions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.stores.base import top as top  # best-first indices, shared with the stores

MODES = ("hybrid", "dense", "lexical")
DENSE_WEIGHT = 0.5
RRF_K = 60
CROSS_LINGUAL_DENSE_WEIGHT = (
    0.9  # a query with no Japanese script: its words rarely occur in Japanese text
)


def has_japanese(text: str) -> bool:
    """Whether the text has any kana or kanji."""
    return any(
        "\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"
        for c in text
    )


def dense_weight_for(query: str, weight: float) -> float:
    """The dense share for this query: the configured one, raised for a question asked in another language
    (the model is multilingual; BM25 can only match the few Latin-script words of Japanese articles)."""
    return weight if has_japanese(query) else max(weight, CROSS_LINGUAL_DENSE_WEIGHT)


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scores scaled to [0, 1] within the candidate set; all-equal scores become 1."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    return np.ones_like(scores) if high - low < 1e-9 else (scores - low) / (high - low)


def by_max(scores: np.ndarray) -> np.ndarray:
    """Non-negative scores divided by their maximum (BM25: 0 stays 0)."""
    peak = float(scores.max()) if scores.size else 0.0
    return scores / peak if peak > 0 else np.zeros_like(scores)


def weighted(
    dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT
) -> np.ndarray:
    """Normalised score fusion: a convex mix of min-max dense and max-scaled lexical scores."""
    return dense_weight * minmax(dense) + (1 - dense_weight) * by_max(lexical)


@dataclass(frozen=True)
class Evidence:
    """Weights of word evidence beside the fused dense + BM25 score (weight 1), chosen by 5-fold CV on JSQuAD valid
    (benchmarks/quality_levers.py). Each part is max-scaled over the candidates read: the IDF share of the query's
    words a passage holds, the share of adjacent query-word pairs it writes together, and the longest stretch of the
    query it writes out."""

    coverage: float = 0.5
    pairs: float = 0.1
    phrase: float = 0.4


EVIDENCE = Evidence()
EVIDENCE_DEPTH = (
    30  # evidence is read for the best fused candidates only: deeper ones gain nothing on valid
)


def with_evidence(
    fused: np.ndarray,
    chosen: np.ndarray,
    parts: tuple[np.ndarray, ...],
    weights: Evidence = EVIDENCE,
) -> np.ndarray:
    """The fused score plus the word evidence of the `chosen` candidates, divided by the weights' total so it stays
    in [0, 1]. Evidence only adds, so candidates left out stay below the ones read."""
    shares = (weights.coverage, weights.pairs, weights.phrase)
    extra = np.zeros_like(fused)
    extra[chosen] = sum(w * by_max(p) for w, p in zip(shares, parts))
    return (fused + extra) / (1 + sum(shares))


OTHER_KIND = 0.8  # a passage about no government of the kind the query asks for (「…できる区」): its share of the score


def for_kind(scores: np.ndarray, chosen: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """Scores with the `chosen` candidates that are not about an asked kind of government weighed down."""
    out = scores.copy()
    out[chosen[~answers]] *= OTHER_KIND
    return out


def rrf(*rankings: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of score arrays over the same candidates."""
    total = np.zeros(rankings[0].shape, dtype=np.float64)
    for scores in rankings:
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
        total += 1.0 / (k + 1 + ranks)
    return total
