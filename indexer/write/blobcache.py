"""A key → blob cache in one SQLite file beside the index: safe to lose, set aside and restarted when damaged."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from common.sqlite import select_in


class BlobCache:
    """Blobs by key in table `table`; a damaged file is moved to `*.damaged` and the cache starts empty."""

    table = "blobs"
    column = "blob"
    unreadable: tuple[type[BaseException], ...] = (
        sqlite3.DatabaseError,
    )  # errors that mean "damaged"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn: sqlite3.Connection | None = None
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError:
            self.conn = self._reset()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, {self.column} BLOB NOT NULL)"
        )
        return conn

    def _reset(self) -> sqlite3.Connection:
        if self.conn is not None:
            self.conn.close()
        for suffix in ("", "-journal", "-wal"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.replace(Path(f"{self.path}{suffix}.damaged"))
        return self._open()

    def decode(self, blob: bytes):
        return blob

    def encode(self, value) -> bytes:
        return value

    def get_many(self, keys: Sequence[str]) -> dict:
        """The cached values of the keys it has; a damaged file is set aside and nothing is found."""
        assert self.conn is not None  # set by __init__ (None only while it opens the file)
        try:
            rows = select_in(
                self.conn, f"SELECT key, {self.column} FROM {self.table} WHERE key IN ({{}})", keys
            )
            return {key: self.decode(blob) for key, blob in rows}
        except self.unreadable:
            self.conn = self._reset()
            return {}

    def put_many(self, items: dict) -> None:
        assert self.conn is not None  # set by __init__ (None only while it opens the file)
        with self.conn:
            self.conn.executemany(
                f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)",
                [(k, self.encode(v)) for k, v in items.items()],
            )

    def close(self) -> None:
        assert self.conn is not None  # set by __init__ (None only while it opens the file)
        self.conn.close()
