"""Registered sources (a feed, sitemap or listing page to crawl every so often), kept in the crawl state."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.errors import UserError

EVERY = re.compile(
    r"^([1-9][0-9]{0,3})([mhd])$"
)  # whole minutes, hours or days: never under a minute
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
URL = re.compile(r'^https?://[^\s<>"/?#\x00-\x1f\x7f-\x9f]+[^\s<>"\x00-\x1f\x7f-\x9f]*$', re.I)
DEFAULT_EVERY = "6h"


class BadSource(UserError):
    """A source that cannot be registered (not http(s), a bad interval)."""

    status, code = 422, "invalid_source"


class UnknownSource(UserError):
    """No registered source has that URL or id."""

    status, code, field = 404, "not_found", "id"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"登録されていないソースです: {key[:200]}（jsearch sources list で確認できます）",
            f"no source {key[:200]!r} is registered (see jsearch sources list)",
        )


@dataclass(frozen=True)
class Source:
    """A start URL crawled every `every_s` seconds."""

    id: str
    url: str
    name: str
    every_s: float
    added: str
    last_crawl: str | None
    last_summary: dict | None

    def view(self) -> dict:
        return {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "every": describe_every(self.every_s),
            "every_seconds": self.every_s,
            "added": self.added,
            "last_crawl": self.last_crawl,
            "last_summary": self.last_summary,
        }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_every(text: str) -> float:
    """`6h`, `30m`, `1d` (1 to 9999 minutes, hours or days) as seconds."""
    found = EVERY.match((text or "").strip())
    if not found:
        raise BadSource(
            f"間隔の形式が正しくありません: {text[:40]!r}（例: 30m、6h、1d）",
            f"invalid interval {text[:40]!r}; use e.g. 30m, 6h or 1d",
            field="every",
        )
    return float(found.group(1)) * UNITS[found.group(2)]


def describe_every(seconds: float) -> str:
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{int(seconds // UNITS[unit])}{unit}"
    return f"{int(seconds)}s"


def source_id(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]


def _row(row: sqlite3.Row) -> Source:
    return Source(
        row["id"],
        row["url"],
        row["name"],
        row["every_s"],
        row["added"],
        row["last_crawl"],
        json.loads(row["last_summary"]) if row["last_summary"] else None,
    )


def add(conn: sqlite3.Connection, url: str, every: str = DEFAULT_EVERY, name: str = "") -> Source:
    """Register a source (again: its name and interval are updated)."""
    url = url.strip()
    if not URL.match(url) or len(url) > 2000:
        raise BadSource(
            f"ソースの URL は http:// か https:// で始めてください: {url[:200]}",
            f"a source URL must start with http:// or https://: {url[:200]}",
            field="url",
        )
    seconds = parse_every(every)
    with conn:
        conn.execute(
            "INSERT INTO sources (id, url, name, every_s, added) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET name = excluded.name, every_s = excluded.every_s",
            (source_id(url), url, name.strip()[:200], seconds, now()),
        )
    return get(conn, url)


def listed(conn: sqlite3.Connection) -> list[Source]:
    return [_row(r) for r in conn.execute("SELECT * FROM sources ORDER BY added, url")]


def get(conn: sqlite3.Connection, key: str) -> Source:
    """A source by URL or id."""
    row = conn.execute("SELECT * FROM sources WHERE url = ? OR id = ?", (key, key)).fetchone()
    if row is None:
        raise UnknownSource(key)
    return _row(row)


def remove(conn: sqlite3.Connection, key: str) -> Source:
    found = get(conn, key)
    with conn:
        conn.execute("DELETE FROM sources WHERE id = ?", (found.id,))
    return found


def due(conn: sqlite3.Connection, at: datetime | None = None) -> list[Source]:
    """The sources never crawled, or last crawled at least their interval ago."""
    moment = at or datetime.now(UTC)
    return [
        s
        for s in listed(conn)
        if s.last_crawl is None
        or datetime.fromisoformat(s.last_crawl) + timedelta(seconds=s.every_s) <= moment
    ]


def crawled(conn: sqlite3.Connection, ids: list[str], summary: dict) -> None:
    """Note that these sources were crawled now, with the pass's summary."""
    with conn:
        conn.executemany(
            "UPDATE sources SET last_crawl = ?, last_summary = ? WHERE id = ?",
            [(now(), json.dumps(summary, ensure_ascii=False), i) for i in ids],
        )
