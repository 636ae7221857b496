"""Near-duplicate articles: MinHash over character shingles of the normalised main text (datasketch LSH).

THRESHOLD and SHINGLE were chosen with benchmarks/crawl.py (same article with other chrome vs different articles
on one topic, and partly overlapping articles); see benchmarks/results/crawl.md."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5  # characters
# Estimated Jaccard at or above which two texts are one article. On the built pairs 0.4 has the best F1 (recall
# 0.993, precision 0.997) but merges 171 of 2,000 articles that share one of three paragraphs; 0.5 keeps precision
# 1.000 (recall 0.920) and merges 22: a wrong merge hides an article from search, a missed one shows it twice.
THRESHOLD = 0.5
SEED = 1
SCHEME = "affine32"  # datasketch 2.x default; stored signatures name it so they stay comparable
_SPACE = re.compile(r"\s+")


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """The distinct `size`-character pieces of the NFKC, lower-cased text without white space."""
    flat = _SPACE.sub("", unicodedata.normalize("NFKC", text).lower())
    if len(flat) <= size:
        return {flat.encode("utf-8")} if flat else set()
    return {flat[i : i + size].encode("utf-8") for i in range(len(flat) - size + 1)}


def signature(text: str, size: int = SHINGLE) -> MinHash:
    """The MinHash of the text's shingles."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    minhash.update_batch(list(shingles(text, size)))
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM, seed=SEED, hashvalues=np.frombuffer(data, dtype=np.uint64), scheme=SCHEME
    )


class Near:
    """Signatures of the kept articles by id; `match` names a kept article a text duplicates, if any."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.kept: dict[str, MinHash] = {}

    def add(self, key: str, minhash: MinHash) -> None:
        if key in self.kept:
            self.lsh.remove(key)
        self.kept[key] = minhash
        self.lsh.insert(key, minhash)

    def match(self, key: str, minhash: MinHash) -> str | None:
        """The most similar other kept article at or above the threshold (its own `key` never matches)."""
        best, score = None, self.threshold
        for other in self.lsh.query(minhash):
            if other == key:
                continue
            similarity = minhash.jaccard(self.kept[other])
            if similarity >= score:
                best, score = other, similarity
        return best
