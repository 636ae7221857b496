"""A SQLite helper every layer may use: `IN (...)` queries over more values than SQLite binds at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def select_in(conn: sqlite3.Connection, sql: str, values: Sequence, batch: int = 500) -> list:
    """The rows of `sql`, whose `IN ({})` takes the values a batch at a time (SQLite caps bound parameters)."""
    rows: list = []
    for i in range(0, len(values), batch):
        part = list(values[i : i + batch])
        rows += conn.execute(sql.format(",".join("?" * len(part))), part).fetchall()
    return rows
