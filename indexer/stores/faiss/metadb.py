"""A segment's SQLite metadata (meta.sqlite): articles, chunks with offsets, content words, municipality mentions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from common.sqlite import select_in as select_in  # used by the segment readers
from indexer.analysis.words import pack_words

FILE = "meta.sqlite"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, published TEXT,
    url TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL, content_hash TEXT NOT NULL,
    urls TEXT NOT NULL, chunks INTEGER NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL REFERENCES articles(id),
    ord INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
    heading TEXT NOT NULL, url TEXT NOT NULL, embed_key TEXT NOT NULL
);
CREATE TABLE mentions (
    row INTEGER NOT NULL REFERENCES chunks(row), code TEXT NOT NULL, name TEXT NOT NULL,
    prefecture TEXT NOT NULL, level TEXT NOT NULL, lat REAL, lon REAL, role TEXT NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE TABLE words (row INTEGER PRIMARY KEY REFERENCES chunks(row), spans TEXT NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id);
CREATE INDEX mentions_row ON mentions(row);
CREATE INDEX mentions_code ON mentions(code);
"""


@dataclass(frozen=True)
class ChunkRow:
    """One chunk as stored; `row` is also its FAISS id and its lexical row."""

    row: int
    id: str
    article_id: str
    ord: int
    start: int
    end: int
    text: str
    heading: str
    url: str
    embed_key: str


@dataclass(frozen=True)
class MentionRow:
    """A municipality or prefecture named by (or inherited into) a chunk."""

    row: int
    code: str
    name: str
    prefecture: str
    level: str
    lat: float
    lon: float
    role: str
    start: int
    end: int


def create(directory: Path) -> sqlite3.Connection:
    """A new, empty metadata database in a commit point directory."""
    conn = sqlite3.connect(directory / FILE)
    conn.executescript(SCHEMA)
    return conn


def open_readonly(directory: Path) -> sqlite3.Connection:
    """The metadata of a served commit point, read-only, usable from any thread."""
    uri = f"file:{(directory / FILE).resolve()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def insert_article(conn: sqlite3.Connection, article, chunk_count: int) -> None:
    """Store one article (a corpus.article.Article)."""
    conn.execute(
        "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            article.id,
            article.title,
            article.source,
            article.published,
            article.url,
            article.path,
            article.text,
            article.content_hash,
            json.dumps(list(article.urls), ensure_ascii=False),
            chunk_count,
        ),
    )


def insert_chunks(conn: sqlite3.Connection, rows: Iterable[ChunkRow]) -> None:
    conn.executemany(
        "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r.row,
                r.id,
                r.article_id,
                r.ord,
                r.start,
                r.end,
                r.text,
                r.heading,
                r.url,
                r.embed_key,
            )
            for r in rows
        ],
    )


def insert_words(
    conn: sqlite3.Connection, rows: Iterable[tuple[int, str, list[tuple[int, int, str]]]]
) -> None:
    """Each chunk's content words (start, end, normalised form), packed (`pack_words`): its highlights' material."""
    conn.executemany(
        "INSERT INTO words VALUES (?,?)",
        [(row, pack_words(text, spans)) for row, text, spans in rows],
    )


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether a metadata database has this table (segments written before it was added do not)."""
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        is not None
    )


def insert_mentions(conn: sqlite3.Connection, rows: Iterable[MentionRow]) -> None:
    conn.executemany(
        "INSERT INTO mentions VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (m.row, m.code, m.name, m.prefecture, m.level, m.lat, m.lon, m.role, m.start, m.end)
            for m in rows
        ],
    )
