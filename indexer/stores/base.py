"""What every store backend implements: its write side (Store), where its commit points come from (CommitSource)
and the read view of one commit point (CommitView), with the filter type and the lexical hits they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.model.base import Embedder
from indexer.stores import manifest
from indexer.stores.spec import StoreSpec
from indexer.write.changes import Change, Report
from indexer.write.pipeline import Pipeline

Row = Mapping[str, Any]  # a stored row: sqlite3.Row in the FAISS store, a dict from Milvus


@dataclass(frozen=True)
class Filters:
    """What a passage must satisfy; empty fields filter nothing."""

    prefecture: str | None = None
    municipality: str | None = None
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def empty(self) -> bool:
        return not any(
            (self.prefecture, self.municipality, self.source, self.date_from, self.date_to)
        )


@dataclass(frozen=True)
class LexicalHits:
    """The best rows by BM25 (best first, only positive scores) and a way to score any other row."""

    rows: np.ndarray
    score_of: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Vocabulary:
    """What one part of a commit point (a FAISS segment) offers as suggestions, with the local rows behind each
    entry so that deleted rows stop counting: titles (an article's first row), headings, places named, and the
    lexical terms of its BM25 postings (the rows of term i are term_rows[term_indptr[i]:term_indptr[i + 1]])."""

    titles: list[tuple[str, int]]
    headings: list[tuple[str, int]]
    places: list[tuple[str, str, str, int]]  # (code, name, prefecture, row)
    terms: list[str]
    term_indptr: np.ndarray
    term_rows: np.ndarray


@dataclass(frozen=True)
class VocabularyPart:
    """One immutable part of a commit point as the suggester sees it: a key that names it for as long as it
    exists (a segment's path), its live rows (None: all), and how to read its vocabulary (done once per key)."""

    key: str
    live: np.ndarray | None
    read: Callable[[], Vocabulary]


@dataclass(frozen=True)
class Merged:
    """What a merge did."""

    generation: str
    segment: str
    merged: list[str]
    rows: int
    purged_rows: int
    kind: str
    seconds: float


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def descending(value: str | None) -> tuple:
    """A sort key that puts later ISO dates first."""
    return tuple(-ord(c) for c in (value or ""))


class CommitView(Protocol):
    """One commit point of a store as the engine reads it. Rows are global integers; `allowed` is whatever
    `restrict` returned for the filters (the store evaluates it before ranking), or None for no filter."""

    remote: bool  # calls go over the network: the engine overlaps its two candidate searches

    @property
    def name(self) -> str: ...
    @property
    def manifest(self) -> manifest.Manifest: ...
    @property
    def parts(self) -> tuple: ...
    @property
    def size(self) -> int: ...
    @property
    def live_rows(self) -> int: ...

    def restrict(self, filters: Filters) -> Any: ...
    def search_dense(
        self, vector: np.ndarray, k: int, allowed: Any = None
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def dense_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray: ...
    def lexical_stats(self, terms: list[str]) -> Any: ...
    def lexical_hits(
        self, query: str, pool: int, allowed: Any = None, extra: Mapping[str, float] | None = None
    ) -> LexicalHits: ...
    def fetch(self, rows: np.ndarray) -> tuple[dict[int, Any], dict[int, list[Any]]]: ...
    def texts(self, rows: np.ndarray) -> list[str]: ...
    def facet_rows(
        self, rows: np.ndarray
    ) -> list[tuple[str, str, str | None, tuple[str, ...]]]: ...
    def place_rows(self, code: str) -> list[tuple[int, str, str | None, str, int]]: ...
    def find_chunk(self, chunk_id: str) -> int | None: ...
    def vector_of(self, row: int) -> np.ndarray: ...
    def find_article(self, article_id: str) -> tuple[Any, Any] | None: ...
    def article_view(
        self, article_id: str
    ) -> tuple[Any, list[Any], dict[int, list[Any]]] | None: ...
    def article_ids(self) -> set[str]: ...
    def articles_page(self, columns: tuple[str, ...], offset: int, limit: int) -> list[Any]: ...
    def vocabulary_parts(self) -> tuple[VocabularyPart, ...]: ...


class CommitSource(Protocol):
    """Where the engine finds the commit point to serve and opens it (sharing what it can with the last one)."""

    def current(self) -> Any: ...
    def require_current(self) -> Any: ...
    def open(self, current: Any, previous: Any = None) -> CommitView: ...
    def open_current(self, previous: Any = None) -> CommitView: ...


class Store(Protocol):
    """A store's write side and its upkeep. Every write (CLI, API, reindex jobs, watch) reaches it through
    `indexer.write.writer`; `merges` says whether the product merges its segments (Milvus compacts its own)."""

    spec: StoreSpec
    index_dir: (
        Path  # the writer lock and the prepare and embedding caches live here for every store
    )
    merges: bool

    def describe(self) -> str: ...
    def apply(
        self,
        change: Change,
        embedder: Embedder,
        progress: bool = False,
        lock_timeout: float = 30,
        pipeline: Pipeline | None = None,
    ) -> Report: ...
    def recorded_sources(self) -> list[str]: ...
    def live_ids(self, ids: Sequence[str]) -> set[str]: ...
    def require_index(self) -> None: ...
    def precision(self) -> str | None: ...
    def synonyms(self) -> list[list[str]]: ...
    def set_synonyms(self, groups: list[list[str]], lock_timeout: float = 30) -> str: ...
    def check(self) -> dict: ...
    def merge(self, max_segments: int | None = None, lock_timeout: float = 60) -> Merged | None: ...
    def commits(self) -> CommitSource: ...
    def scratch(self, folder: Path) -> StoreSpec: ...
    def snapshot(self, dest: Path) -> dict: ...
    def restore(self, src: Path, lock_timeout: float = 30) -> dict: ...
