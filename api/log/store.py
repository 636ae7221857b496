"""The search log's SQLite file beside the index: one row per search, written by a background thread from a queue,
so a search never waits for the disk and a full or unwritable disk never fails one."""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.log.masking import mask

log = logging.getLogger("jsearch.searchlog")

QUEUE_MAX = (
    10_000  # entries waiting at most; beyond that a search is not logged (counted as dropped)
)
PURGE_EVERY = 3600.0  # seconds between deletions of rows older than the kept days

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,          -- UTC, ISO 8601 to the millisecond
    day TEXT NOT NULL,         -- UTC date, YYYY-MM-DD
    query TEXT NOT NULL,       -- masked
    filters TEXT NOT NULL,     -- JSON object of the filters given (masked)
    mode TEXT NOT NULL,
    results INTEGER NOT NULL,
    best_score REAL,
    best_dense REAL,
    took_ms REAL NOT NULL,
    places TEXT NOT NULL       -- JSON list of [code, name, prefecture]: the answer's top municipalities
);
CREATE INDEX IF NOT EXISTS searches_day ON searches(day);
"""


def default_path(index_dir: Path) -> Path:
    """Beside the index folder, never inside it (commit points, snapshots and checks leave it alone)."""
    return index_dir.parent / f"{index_dir.name}.searchlog.sqlite3"


@dataclass(frozen=True)
class Entry:
    """One search as logged: no user, no address."""

    at: str
    query: str
    filters: dict
    mode: str
    results: int
    best_score: float | None
    best_dense: float | None
    took_ms: float
    places: list


def entry_of(answer: dict, filters: dict, at: datetime | None = None, places: int = 3) -> Entry:
    """The log entry of one `/search` answer (the masking happens on the writer thread); a lexical answer has no
    dense score (it would read as 0), so it is never a weak answer."""
    passages = answer.get("passages", [])
    top = passages[0] if passages else None
    return Entry(
        at=(at or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        query=answer.get("query", ""),
        filters={k: v for k, v in filters.items() if v},
        mode=answer.get("mode", ""),
        results=len(passages),
        best_score=top["score"] if top else None,
        best_dense=top["scores"]["dense"] if top and answer.get("mode") != "lexical" else None,
        took_ms=float(answer.get("took_ms", 0.0)),
        places=[
            [p["code"], p["name"], p["prefecture"]]
            for p in answer.get("municipalities", [])[:places]
        ],
    )


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


class SearchLog:
    """`record()` puts an entry on a queue and returns at once; a daemon thread masks and writes the entries in
    batches and deletes rows older than `days`. Any error of the disk is logged, counted in `dropped`, and retried
    with the next batch: the search itself never sees it."""

    def __init__(self, path: Path, days: int = 180, enabled: bool = True) -> None:
        self.path, self.days, self.enabled = path, days, enabled
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[Entry | None] = queue.Queue(QUEUE_MAX)
        self._conn: sqlite3.Connection | None = None
        self._purged: float | None = None  # monotonic time of the last deletion of old rows
        self._thread = threading.Thread(target=self._run, name="jsearch-searchlog", daemon=True)
        self._thread.start()

    def record(self, entry: Entry) -> None:
        """Queue one entry (never blocks, never raises)."""
        if not self.enabled:
            return
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued entry is written or dropped (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                break
            batch = [first]
            while len(batch) < 500:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    self._queue.task_done()
                    break
                batch.append(more)
            try:
                self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, batch: list[Entry]) -> None:
        rows: list[tuple] = []
        try:
            rows = [_row(e) for e in batch]
            if self._conn is None:
                self._conn = connect(self.path)
            with self._conn:
                self._conn.executemany(
                    "INSERT INTO searches (at, day, query, filters, mode, results, best_score, best_dense, "
                    "took_ms, places) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                if self._purged is None or time.monotonic() - self._purged >= PURGE_EVERY:
                    self._purged = time.monotonic()
                    cut = (datetime.now(UTC) - timedelta(days=self.days)).date().isoformat()
                    self._conn.execute("DELETE FROM searches WHERE day < ?", (cut,))
            self.written += len(rows)
        except Exception as exc:  # noqa: BLE001 - the disk, or a row SQLite refuses: this thread must live on
            self.dropped += len(batch)
            log.warning(
                "検索ログを書けませんでした（検索は続けます）/ could not write the search log: %s",
                exc,
            )
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None


def _row(e: Entry) -> tuple:
    filters = {k: mask(str(v)) for k, v in e.filters.items()}
    return (
        e.at,
        e.at[:10],
        mask(e.query),
        json.dumps(filters, ensure_ascii=False, sort_keys=True),
        e.mode,
        e.results,
        e.best_score,
        e.best_dense,
        e.took_ms,
        json.dumps(e.places, ensure_ascii=False),
    )
