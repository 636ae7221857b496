"""What the crawler remembers, in `crawl.sqlite` inside the index directory (for the Milvus store too): per URL
the validators (ETag, Last-Modified) and the article it gave, the kept articles' MinHash signatures, the URLs
found to be near-duplicates of a kept article, and the registered sources (corpus/crawl/sources.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.crawl.also import FILE
from corpus.crawl.dedup import Near, from_bytes
from corpus.crawl.fetch import Validators

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, article_id TEXT,
    content_hash TEXT, fetched_at TEXT);
CREATE TABLE IF NOT EXISTS signatures (article_id TEXT PRIMARY KEY, url TEXT NOT NULL, minhash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS duplicates (url TEXT PRIMARY KEY, article_id TEXT NOT NULL, seen_at TEXT);
CREATE INDEX IF NOT EXISTS duplicates_article ON duplicates (article_id);
CREATE TABLE IF NOT EXISTS sources (id TEXT PRIMARY KEY, url TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
    every_s REAL NOT NULL, added TEXT NOT NULL, last_crawl TEXT, last_summary TEXT);
"""


def connect(folder: Path) -> sqlite3.Connection:
    """The crawl state of the index in `folder` (created, with the folder, when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / FILE, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


@dataclass(frozen=True)
class Seen:
    """What the last pass kept of a URL."""

    validators: Validators
    article_id: str
    content_hash: str


@dataclass(frozen=True)
class Kept:
    """One fetched page to remember once its article is indexed (or bundled)."""

    url: str
    validators: Validators
    article_id: str
    canonical: str
    content_hash: str
    minhash: bytes


def seen(conn: sqlite3.Connection, urls: Sequence[str]) -> dict[str, Seen]:
    """What the state holds of these fetched URLs."""
    found: dict[str, Seen] = {}
    for start in range(0, len(urls), 500):
        chunk = list(urls[start : start + 500])
        rows = conn.execute(
            f"SELECT * FROM pages WHERE url IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
        for r in rows:
            found[r["url"]] = Seen(
                Validators(r["etag"], r["last_modified"]),
                r["article_id"] or "",
                r["content_hash"] or "",
            )
    return found


def near(conn: sqlite3.Connection, threshold: float | None = None) -> Near:
    """The kept articles' signatures, ready to match new pages against."""
    index = Near() if threshold is None else Near(threshold)
    for row in conn.execute("SELECT article_id, minhash FROM signatures"):
        index.add(row["article_id"], from_bytes(row["minhash"]))
    return index


def hashes(conn: sqlite3.Connection, article_ids: Iterable[str]) -> dict[str, str]:
    """The content hash last kept for each article id (bundles count new/updated/unchanged with these)."""
    ids = list(article_ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in conn.execute(
            f"SELECT article_id, content_hash FROM pages WHERE article_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            found[row["article_id"]] = row["content_hash"]
    return found


def record(
    conn: sqlite3.Connection,
    kept: Sequence[Kept],
    duplicates: Sequence[tuple[str, str]],
    when: str,
) -> None:
    """Remember the pages kept (validators, article, signature) and the duplicates found, in one transaction."""
    with conn:
        conn.executemany(
            "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    k.url,
                    k.validators.etag,
                    k.validators.last_modified,
                    k.article_id,
                    k.content_hash,
                    when,
                )
                for k in kept
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO signatures VALUES (?, ?, ?)",
            [(k.article_id, k.canonical, k.minhash) for k in kept if k.minhash],
        )
        conn.executemany(  # a page that is its own article again
            "DELETE FROM duplicates WHERE url = ?", [(k.canonical,) for k in kept if k.minhash]
        )
        conn.executemany(
            "INSERT OR REPLACE INTO duplicates VALUES (?, ?, ?)",
            [(url, article, when) for url, article in duplicates],
        )
