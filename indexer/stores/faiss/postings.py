"""Lexical postings of one segment (term → rows and frequencies, plus row lengths) as plain, mmap-able files.

BM25 is scored at query time from these counts with statistics over every live row of every segment, so a
score never depends on how the rows happen to be spread over segments. The formula is the Lucene variant that
bm25s uses (k1 1.5, b 0.75), so the ranking stays that of round 1's single bm25s index.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.stores.bm25 import Stats, idf, tf_part

VOCAB = "vocab.json"
ARRAYS = ("indptr", "rows", "tfs", "lengths")


@dataclass(frozen=True)
class Postings:
    """Term-major postings: the rows of term t are rows[indptr[t]:indptr[t + 1]], with their frequencies."""

    vocab: dict[str, int]
    indptr: np.ndarray  # int64, one more than the vocabulary
    rows: np.ndarray  # int32 local rows
    tfs: np.ndarray  # float32 term frequencies
    lengths: np.ndarray  # float32 tokens per row

    @property
    def size(self) -> int:
        return len(self.lengths)

    def slice(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding the term and how often; empty when the segment never saw it."""
        t = self.vocab.get(term)
        if t is None:
            return _EMPTY_ROWS, _EMPTY_TFS
        start, end = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.rows[start:end], self.tfs[start:end]


_EMPTY_ROWS = np.zeros(0, np.int32)
_EMPTY_TFS = np.zeros(0, np.float32)


def from_counts(counts: Sequence[Counter]) -> Postings:
    """Postings of rows given as token counts (row i is counts[i])."""
    vocab: dict[str, int] = {}
    terms, rows, tfs = [], [], []
    for row, counter in enumerate(counts):
        for term, tf in counter.items():
            terms.append(vocab.setdefault(term, len(vocab)))
            rows.append(row)
            tfs.append(tf)
    lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
    return _sorted(
        vocab,
        np.array(terms, np.int64),
        np.array(rows, np.int32),
        np.array(tfs, np.float32),
        lengths,
    )


def _sorted(
    vocab: dict[str, int], terms: np.ndarray, rows: np.ndarray, tfs: np.ndarray, lengths: np.ndarray
) -> Postings:
    order = np.lexsort((rows, terms))
    indptr = np.zeros(len(vocab) + 1, np.int64)
    np.cumsum(np.bincount(terms, minlength=len(vocab)), out=indptr[1:])
    return Postings(vocab, indptr, rows[order], tfs[order], lengths)


def merge(parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
    """One segment's postings from several, keeping only the rows given for each (in that order)."""
    vocab: dict[str, int] = {}
    terms, rows, tfs, lengths, offset = [], [], [], [], 0
    for postings, keep in parts:
        new_row = np.full(postings.size, -1, np.int64)
        new_row[keep] = np.arange(len(keep)) + offset
        names = list(postings.vocab)
        remap = np.array([vocab.setdefault(n, len(vocab)) for n in names], np.int64)
        term_of = np.repeat(np.arange(len(names)), np.diff(postings.indptr))
        alive = new_row[postings.rows] >= 0
        terms.append(remap[term_of[alive]])
        rows.append(new_row[postings.rows[alive]])
        tfs.append(np.asarray(postings.tfs[alive]))
        lengths.append(np.asarray(postings.lengths)[keep])
        offset += len(keep)
    cat = lambda xs, dtype: np.concatenate(xs).astype(dtype) if xs else np.zeros(0, dtype)  # noqa: E731
    return _sorted(
        vocab,
        cat(terms, np.int64),
        cat(rows, np.int32),
        cat(tfs, np.float32),
        cat(lengths, np.float32),
    )


def save(postings: Postings, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    terms = sorted(postings.vocab, key=postings.vocab.__getitem__)
    (directory / VOCAB).write_text(json.dumps(terms, ensure_ascii=False), "utf-8")
    for name in ARRAYS:
        np.save(directory / f"{name}.npy", getattr(postings, name))


def load(directory: Path) -> Postings:
    """The saved postings, arrays memory-mapped."""
    terms = json.loads((directory / VOCAB).read_text("utf-8"))
    # mapped, then seen as plain arrays: the same pages, without np.memmap's per-slice bookkeeping
    arrays = {
        name: np.asarray(np.load(directory / f"{name}.npy", mmap_mode="r")) for name in ARRAYS
    }
    if len(arrays["indptr"]) != len(terms) + 1 or arrays["indptr"][-1] != len(arrays["rows"]):
        raise ValueError(f"lexical postings in {directory} do not match their vocabulary")
    return Postings({t: i for i, t in enumerate(terms)}, **arrays)


def gather(
    postings: Postings, terms: Sequence[str], live: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every live posting of the terms in one gather: (position of its term in `terms`, local row, tf)."""
    found = [(i, postings.vocab[t]) for i, t in enumerate(terms) if t in postings.vocab]
    if not found:
        return np.zeros(0, np.int64), _EMPTY_ROWS, _EMPTY_TFS
    position, ids = np.array(found, np.int64).T
    starts, ends = postings.indptr[ids], postings.indptr[ids + 1]
    sizes = ends - starts
    index = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    owner, rows, tfs = np.repeat(position, sizes), postings.rows[index], postings.tfs[index]
    if live is not None and len(rows):
        keep = live[rows]
        owner, rows, tfs = owner[keep], rows[keep], tfs[keep]
    return owner, rows, tfs


def weighted_scores(
    postings: Postings,
    gathered: tuple[np.ndarray, np.ndarray, np.ndarray],
    weights: np.ndarray,
    avg_length: float,
) -> np.ndarray:
    """BM25 score of every row of the segment: each gathered posting's term weight (its IDF times how often the
    query holds it) times its saturated frequency, summed per row."""
    owner, rows, tfs = gathered
    if not len(rows):
        return np.zeros(postings.size, np.float64)
    # in float32, the postings' type: a query gathers some 300,000 postings on 20,000 articles
    parts = weights.astype(np.float32)[owner] * tf_part(tfs, postings.lengths[rows], avg_length)
    return np.bincount(rows, weights=parts, minlength=postings.size)


def scores(
    postings: Postings, terms: Iterable[str], stats: Stats, live: np.ndarray | None
) -> np.ndarray:
    """BM25 score of every row of the segment for the query terms (a repeated term counts again)."""
    counted = Counter(terms)
    unique = list(counted)
    if stats.rows == 0:
        return np.zeros(postings.size, np.float64)
    weights = np.array(
        [idf(stats.df.get(t, 0), stats.rows) * counted[t] for t in unique], np.float64
    )
    return weighted_scores(postings, gather(postings, unique, live), weights, stats.avg_length)


def live_df(postings: Postings, term: str, live: np.ndarray | None) -> int:
    """Rows of this segment that hold the term and are not deleted."""
    rows, _ = postings.slice(term)
    return len(rows) if live is None else int(np.count_nonzero(live[rows]))
