"""BM25 as sparse vectors: a passage stores each term's saturated frequency, a query each term's IDF, so that their
inner product in Milvus is the BM25 score the FAISS store computes (indexer/stores/bm25.py)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

from indexer.stores import bm25

DIMS = 2**32 - 1  # Milvus sparse dimensions are uint32 below this


def term_id(term: str) -> int:
    """A stable 32-bit id for a token (no vocabulary to share between writers and replicas)."""
    return (
        int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")
        % DIMS
    )


def doc_vector(counts: Counter, length: int, avg_length: float) -> dict[int, float]:
    """A passage's BM25 term part: tf / (k1 (1 - b + b len/avg) + tf), by term id."""
    out: dict[int, float] = {}
    if not counts:
        return out
    terms = list(counts)
    weights = bm25.tf_part(
        np.array([counts[t] for t in terms]), np.full(len(terms), length), avg_length
    )
    for term, weight in zip(terms, weights.tolist()):
        key = term_id(term)
        out[key] = out.get(key, 0.0) + weight
    return out


def query_vector(
    terms: Iterable[str] | Mapping[str, float], df: Mapping[int, int], rows: int
) -> dict[int, float]:
    """The query's IDF weight by term id; a repeated term counts again, as in the FAISS store (a mapping gives each
    term's count or weight)."""
    counts = terms if isinstance(terms, Mapping) else Counter(terms)
    out: dict[int, float] = {}
    for term, count in counts.items():
        key = term_id(term)
        out[key] = out.get(key, 0.0) + count * float(bm25.idf(df.get(key, 0), rows))
    return {k: v for k, v in out.items() if v > 0}


def term_deltas(added: Iterable[Counter], removed: Iterable[Iterable[int]]) -> Counter:
    """How each term id's document frequency changes: +1 per added passage holding it, -1 per removed one."""
    delta: Counter = Counter()
    for counts in added:
        delta.update({term_id(t) for t in counts})
    for keys in removed:
        delta.subtract(set(keys))
    return Counter({k: v for k, v in delta.items() if v})
