"""Score fusion of the dense and lexical lists: small pure functions."""
from __future__ import annotations

import numpy as np

MODES = ("hybrid", "dense", "lexical")
DENSE_WEIGHT = 0.5
RRF_K = 60


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scores scaled to [0, 1] within the candidate set; all-equal scores become 1."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    return np.ones_like(scores) if high - low < 1e-9 else (scores - low) / (high - low)


def by_max(scores: np.ndarray) -> np.ndarray:
    """Non-negative scores divided by their maximum (BM25: 0 stays 0)."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def weighted(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """Normalised score fusion: a convex mix of min-max dense and max-scaled lexical scores."""
    return dense_weight * minmax(dense) + (1 - dense_weight) * by_max(lexical)


def rrf(*rankings: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of score arrays over the same candidates."""
    total = np.zeros(rankings[0].shape, dtype=np.float64)
    for scores in rankings:
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
        total += 1.0 / (k + 1 + ranks)
    return total


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
