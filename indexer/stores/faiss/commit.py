"""Commit points: the manifest that lists the live segments and their deleted articles, read and written."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from corpus.article import Article
from indexer.stores import manifest
from indexer.stores.faiss import check, layout, metadb
from indexer.write.changes import Ref


@dataclass(frozen=True)
class Entry:
    """One segment as a commit point lists it: its size, and the articles deleted from it since it was written."""

    name: str
    rows: int
    articles: int
    kind: str = "flat"
    deleted: tuple[str, ...] = ()
    deleted_rows: int = 0

    @property
    def live_rows(self) -> int:
        return self.rows - self.deleted_rows

    @property
    def live_articles(self) -> int:
        return self.articles - len(self.deleted)

    def as_json(self) -> dict:
        return {**asdict(self), "deleted": list(self.deleted)}

    @classmethod
    def from_json(cls, data: dict) -> Entry:
        return cls(
            data["name"],
            int(data["rows"]),
            int(data["articles"]),
            data.get("kind", "flat"),
            tuple(data.get("deleted", ())),
            int(data.get("deleted_rows", 0)),
        )


@dataclass(frozen=True)
class Base:
    """What a write builds on: the served commit point's entries and the live articles it asked about."""

    manifest: manifest.Manifest | None
    entries: tuple[Entry, ...]
    refs: dict[str, Ref]
    carry: dict[str, Article] | None = (
        None  # articles to rewrite: an old-format index, damaged segments
    )
    repaired_from: str | None = None
    sources: tuple[str, ...] = field(default=())


def entries_of(info: manifest.Manifest) -> tuple[Entry, ...]:
    return tuple(Entry.from_json(e) for e in info.segments)


def lookup(
    index: layout.IndexDir, entries: Sequence[Entry], ids: Iterable[str] | None
) -> dict[str, Ref]:
    """Live articles among `ids` (all of them when None), by id."""
    wanted = None if ids is None else list(dict.fromkeys(ids))
    refs: dict[str, Ref] = {}
    for entry in entries:
        gone = set(entry.deleted)
        conn = metadb.open_readonly(index.segments / entry.name)
        try:
            for row in _article_rows(conn, wanted):
                if row["id"] not in gone:
                    refs[row["id"]] = Ref(
                        entry.name, row["content_hash"], row["path"], row["chunks"]
                    )
        finally:
            conn.close()
    return refs


def _article_rows(conn: sqlite3.Connection, ids: list[str] | None) -> list[sqlite3.Row]:
    sql = "SELECT id, content_hash, path, chunks FROM articles"
    return (
        conn.execute(sql).fetchall()
        if ids is None
        else metadb.select_in(conn, sql + " WHERE id IN ({})", ids)
    )


def without(entries: Sequence[Entry], gone: dict[str, Ref]) -> list[Entry]:
    """The entries with these articles marked deleted; a segment left with no live article is dropped."""
    by_segment: dict[str, list[tuple[str, int]]] = {}
    for article_id, ref in gone.items():
        by_segment.setdefault(ref.segment, []).append((article_id, ref.chunks))
    kept = []
    for entry in entries:
        marks = by_segment.get(entry.name, [])
        if marks:
            entry = replace(
                entry,
                deleted=entry.deleted + tuple(i for i, _ in marks),
                deleted_rows=entry.deleted_rows + sum(n for _, n in marks),
            )
        if entry.live_articles > 0:
            kept.append(entry)
    return kept


def largest_kind(entries: Sequence[Entry]) -> str:
    """The FAISS kind of the biggest segment (what the manifest and reports show)."""
    return max(entries, key=lambda e: e.rows).kind if entries else "flat"


def listing(info: manifest.Manifest, entries: Sequence[Entry]) -> manifest.Manifest:
    """The manifest of a new commit point over these segments: their live counts, kind and today's time."""
    return replace(
        info,
        faiss_index=largest_kind(entries),
        articles=sum(e.live_articles for e in entries),
        chunks=sum(e.live_rows for e in entries),
        segments=[e.as_json() for e in entries],
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def stored_articles(generation: Path) -> dict[str, Article]:
    """All articles stored in a SQLite store (a segment, or a commit point of the old format 1), by id."""
    conn = metadb.open_readonly(generation)
    try:
        rows = conn.execute(
            "SELECT id, title, text, source, published, url, path, urls FROM articles"
        ).fetchall()
    finally:
        conn.close()
    return {
        r["id"]: Article(
            r["id"],
            r["title"],
            r["text"],
            r["source"],
            r["published"],
            r["url"],
            r["path"],
            tuple(json.loads(r["urls"])),
        )
        for r in rows
    }


def publish(index: layout.IndexDir, info: manifest.Manifest) -> str:
    """Write the commit point as the next commit point and switch `current` to it; returns its name."""
    name = layout.next_name(index.generations, "g")
    tmp = layout.new_generation(index)
    try:
        manifest.write(replace(info, generation=name, files=check.file_digests(tmp)), tmp)
        layout.mark_readable(tmp)
        layout.publish(index, tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name
