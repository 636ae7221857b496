"""Past searches offered as suggestions (kind `query`): masked queries searched at least twice with an answer."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from api.log.masking import MASK
from search.suggest import Scored, query_lexicon

log = logging.getLogger("jsearch.searchlog")

MIN_SEARCHES = 2  # a query typed once may be a typo or carry something personal the masking missed
REFRESH_SECONDS = 60.0
LIMIT = 20_000  # the most searched queries kept


def repeated(path: Path, least: int = MIN_SEARCHES, limit: int = LIMIT) -> list[tuple[str, int]]:
    """(query, searches) of the queries searched at least `least` times with a passage in the answer; never one
    that the masking touched (it holds ＊＊＊)."""
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return [
            (q, int(n))
            for q, n in conn.execute(
                "SELECT query, COUNT(*) AS n FROM searches WHERE results > 0 AND instr(query, ?) = 0 "
                "GROUP BY query HAVING n >= ? ORDER BY n DESC, query LIMIT ?",
                (MASK, least, limit),
            )
        ]
    except sqlite3.OperationalError:  # no table yet
        return []
    finally:
        conn.close()


class PastQueries:
    """The log's repeated queries as a scored lexicon, read again in a background thread once a minute old."""

    def __init__(self, path: Path, enabled: bool = True, seconds: float = REFRESH_SECONDS) -> None:
        self.path, self.enabled, self.seconds = path, enabled, seconds
        self._scored: Scored | None = None
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def scored(self) -> Scored | None:
        """The last lexicon read (None before the first read ends); never waits for the disk."""
        if not self.enabled:
            return None
        with self._lock:
            due = self._read_at is None or time.monotonic() - self._read_at >= self.seconds
            if due:
                self._read_at = time.monotonic()
                threading.Thread(target=self.refresh, name="jsearch-past", daemon=True).start()
        return self._scored

    def refresh(self) -> None:
        """Read the log now (tests call it to see new searches at once)."""
        try:
            self._scored = Scored.of(query_lexicon(repeated(self.path)), None)
        except Exception as exc:  # noqa: BLE001 - the log is optional: suggestions go on without it
            log.warning("検索ログを読めません / could not read the search log: %s", exc)
