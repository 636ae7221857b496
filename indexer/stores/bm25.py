"""BM25 as small pure functions (Lucene's variant, as bm25s scores it: k1 1.5, b 0.75), shared by every store."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K1 = 1.5
B = 0.75


def idf(df: np.ndarray | float, n: float) -> np.ndarray:
    """Lucene's BM25 idf: never negative."""
    return np.log1p((n - df + 0.5) / (np.asarray(df, np.float64) + 0.5))


def tf_part(tf: np.ndarray, length: np.ndarray, avg_length: float) -> np.ndarray:
    """BM25's saturated term frequency, normalised by row length (float32 stays float32: the postings' type)."""
    tf = np.asarray(tf) if np.asarray(tf).dtype == np.float32 else np.asarray(tf, np.float64)
    norm = K1 * (1 - B) + (K1 * B / avg_length) * np.asarray(length, tf.dtype)
    return tf / (norm + tf)


@dataclass(frozen=True)
class Stats:
    """Collection statistics over live rows: row count, mean length, and each query term's row count."""

    rows: int
    avg_length: float
    df: dict[str, int]
