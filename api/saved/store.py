"""The saved searches' SQLite file beside the index: the stored queries, the articles that matched each, and the
articles already looked at."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from indexer.stores.base import Filters
from search.percolate import StoredQuery, matrix

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, q TEXT NOT NULL, filters TEXT NOT NULL, created TEXT NOT NULL,
    vector BLOB NOT NULL, words TEXT NOT NULL, weights TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
    search_id TEXT NOT NULL REFERENCES searches(id) ON DELETE CASCADE, article_id TEXT NOT NULL,
    passage_id TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL, source TEXT NOT NULL, published TEXT,
    text TEXT NOT NULL, places TEXT NOT NULL, dense REAL NOT NULL, coverage REAL NOT NULL, found TEXT NOT NULL,
    mailed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (search_id, article_id)
);
CREATE INDEX IF NOT EXISTS hits_found ON hits(search_id, found);
CREATE TABLE IF NOT EXISTS seen (article_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
FILTER_FIELDS = ("prefecture", "municipality", "source", "date_from", "date_to")


def default_path(index_dir: Path) -> Path:
    """Beside the index folder, never inside it."""
    return index_dir.parent / f"{index_dir.name}.saved.sqlite3"


def new_id() -> str:
    """An unguessable id (128 bits): whoever holds it may read the feed and delete the search. Never one that
    starts with "-", which a command line would read as an option."""
    while (token := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return token


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Saved:
    id: str
    name: str
    q: str
    filters: dict
    created: str


@dataclass(frozen=True)
class Hit:
    article_id: str
    passage_id: str
    title: str
    url: str
    source: str
    published: str | None
    text: str
    places: list
    dense: float
    coverage: float
    found: str


class SavedStore:
    """One connection shared under a lock (writes are rare: a save, a delete, a write's matches)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)
        self._queries: list[StoredQuery] | None = None
        self._matrix: np.ndarray | None = None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------ saved searches

    def add(
        self,
        name: str,
        q: str,
        filters: Filters,
        vector: np.ndarray,
        words: tuple,
        weights: np.ndarray,
    ) -> Saved:
        saved = Saved(new_id(), name, q, {k: v for k, v in asdict(filters).items() if v}, now())
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    saved.id,
                    name,
                    q,
                    json.dumps(saved.filters, ensure_ascii=False),
                    saved.created,
                    np.asarray(vector, np.float32).tobytes(),
                    json.dumps(list(words), ensure_ascii=False),
                    json.dumps([float(w) for w in weights]),
                ),
            )
            self._queries = None
        return saved

    def get(self, search_id: str) -> Saved | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, name, q, filters, created FROM searches WHERE id = ?", (search_id,)
            ).fetchone()
        return _saved(row) if row else None

    def all(self) -> list[Saved]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, name, q, filters, created FROM searches ORDER BY created, id"
            ).fetchall()
        return [_saved(r) for r in rows]

    def remove(self, search_id: str) -> bool:
        with self._lock, self._conn:
            gone = self._conn.execute("DELETE FROM searches WHERE id = ?", (search_id,)).rowcount
            self._queries = None
        return bool(gone)

    def queries(self) -> tuple[list[StoredQuery], np.ndarray]:
        """Every saved search as percolation needs it, and their vectors as one matrix (both cached until one is
        added or removed)."""
        with self._lock:
            if self._queries is None:
                self._queries = [
                    StoredQuery(
                        r["id"],
                        np.frombuffer(r["vector"], np.float32),
                        tuple(json.loads(r["words"])),
                        np.array(json.loads(r["weights"]), np.float64),
                        Filters(**json.loads(r["filters"])),
                    )
                    for r in self._conn.execute(
                        "SELECT id, vector, words, weights, filters FROM searches"
                    )
                ]
                self._matrix = matrix(self._queries)
            assert self._matrix is not None
            return self._queries, self._matrix

    # ------------------------------------------------------------ articles looked at, matches

    def baseline(self) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM state WHERE key = 'baseline'").fetchone()
        return row[0] if row else None

    def seen(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._conn.execute("SELECT article_id FROM seen")}

    def record(
        self, article_ids: list[str], hits: list[tuple[str, Hit]], baseline: str | None = None
    ) -> None:
        """The articles looked at and the matches found among them, in one transaction."""
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO seen VALUES (?)", [(a,) for a in article_ids]
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO hits (search_id, article_id, passage_id, title, url, source, published, "
                "text, places, dense, coverage, found) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM searches WHERE id = ?)",
                [
                    (
                        sid,
                        h.article_id,
                        h.passage_id,
                        h.title,
                        h.url,
                        h.source,
                        h.published,
                        h.text,
                        json.dumps(h.places, ensure_ascii=False),
                        h.dense,
                        h.coverage,
                        h.found,
                        sid,
                    )
                    for sid, h in hits
                ],
            )
            if baseline is not None:
                self._conn.execute(
                    "INSERT OR REPLACE INTO state VALUES ('baseline', ?)", (baseline,)
                )

    def hits(self, search_id: str, limit: int = 100) -> list[Hit]:
        """A saved search's matched articles, newest arrival first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT article_id, passage_id, title, url, source, published, text, places, dense, coverage, "
                "found FROM hits WHERE search_id = ? ORDER BY found DESC, rowid DESC LIMIT ?",
                (search_id, limit),
            ).fetchall()
        return [Hit(**{**dict(r), "places": json.loads(r["places"])}) for r in rows]

    def count(self, search_id: str) -> int:
        with self._lock:
            return self._conn.execute(
                "SELECT COUNT(*) FROM hits WHERE search_id = ?", (search_id,)
            ).fetchone()[0]


def _saved(row: sqlite3.Row) -> Saved:
    return Saved(row["id"], row["name"], row["q"], json.loads(row["filters"]), row["created"])
