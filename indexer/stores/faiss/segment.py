"""One immutable segment: the SQLite rows, FAISS vectors and lexical postings of the articles one write added."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from indexer.analysis import lexical
from indexer.analysis.prepare import Prepared
from indexer.stores.faiss import check, metadb, postings, vectors

INFO = "segment.json"
LEXICAL = "lexical"


@dataclass(frozen=True)
class Segment:
    """A segment's files, opened read-only (shared by every commit point that lists it)."""

    path: Path
    rows: int
    kind: str
    dense: faiss.Index
    lexical: postings.Postings
    conn: sqlite3.Connection
    words: bool = (
        False  # holds each chunk's content words (segments written before they were stored do not)
    )

    @property
    def name(self) -> str:
        return self.path.name


def open_segment(path: Path) -> Segment:
    """Open a finished segment directory."""
    info = json.loads((path / INFO).read_text("utf-8"))
    conn = metadb.open_readonly(path)
    return Segment(
        path,
        int(info["rows"]),
        info["kind"],
        vectors.load(path),
        postings.load(path / LEXICAL),
        conn,
        metadb.has_table(conn, "words"),
    )


def write(
    directory: Path, items: Sequence[Prepared], matrix: np.ndarray, keys: Sequence[str]
) -> dict:
    """Write a new segment from prepared articles (row order: article by article); returns its info."""
    conn = metadb.create(directory)
    row = 0
    with conn:
        for item in items:
            metadb.insert_article(conn, item.article, len(item.passages))
            rows = []
            for p in item.passages:
                rows.append(
                    metadb.ChunkRow(
                        row,
                        p.id,
                        item.article.id,
                        p.ord,
                        p.chunk.start,
                        p.chunk.end,
                        p.chunk.text,
                        p.chunk.heading,
                        p.url,
                        keys[row],
                    )
                )
                metadb.insert_mentions(
                    conn,
                    [
                        metadb.MentionRow(
                            row,
                            m.place.code,
                            m.place.name,
                            m.place.prefecture,
                            m.place.level,
                            m.place.lat,
                            m.place.lon,
                            m.role,
                            m.start,
                            m.end,
                        )
                        for m in p.mentions
                    ],
                )
                row += 1
            metadb.insert_chunks(conn, rows)
            metadb.insert_words(conn, [(r.row, r.text, lexical.word_spans(r.text)) for r in rows])
    conn.close()
    terms = postings.from_counts([c for item in items for c in item.counts])
    return _finish(directory, matrix, terms, len(items))


def deleted_rows(segment: Segment, deleted: Sequence[str]) -> np.ndarray:
    """Local rows of the segment that belong to deleted articles."""
    rows = metadb.select_in(
        segment.conn, "SELECT row FROM chunks WHERE article_id IN ({})", list(deleted)
    )
    return np.array(sorted(r[0] for r in rows), np.int64)


def live_mask(segment: Segment, deleted: Sequence[str]) -> np.ndarray | None:
    """True for every row not deleted; None when nothing is."""
    rows = deleted_rows(segment, deleted) if deleted else np.zeros(0, np.int64)
    if not len(rows):
        return None
    mask = np.ones(segment.rows, dtype=bool)
    mask[rows] = False
    return mask


def write_merged(directory: Path, sources: Sequence[tuple[Segment, Sequence[str]]]) -> dict:
    """A segment holding the live articles of older segments (in that order), deleted ones purged."""
    conn = metadb.create(directory)
    offset, parts, lexical_parts = 0, [], []
    with conn:
        for segment, deleted in sources:
            mask = live_mask(segment, deleted)
            keep = np.arange(segment.rows) if mask is None else np.flatnonzero(mask)
            _copy_rows(conn, segment, keep, offset, deleted)
            parts.append(vectors.rows_of(segment.dense, keep))
            lexical_parts.append((segment.lexical, keep))
            offset += len(keep)
        articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    conn.close()
    return _finish(directory, np.concatenate(parts), postings.merge(lexical_parts), articles)


def _copy_rows(
    conn: sqlite3.Connection,
    segment: Segment,
    keep: np.ndarray,
    offset: int,
    deleted: Sequence[str],
) -> None:
    conn.execute(
        "ATTACH DATABASE ? AS src", (f"file:{(segment.path / metadb.FILE).resolve()}?mode=ro",)
    )
    try:
        conn.execute("CREATE TEMP TABLE gone (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO gone VALUES (?)", [(i,) for i in deleted])
        conn.execute("CREATE TEMP TABLE remap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        conn.executemany(
            "INSERT INTO remap VALUES (?, ?)", zip(keep.tolist(), range(offset, offset + len(keep)))
        )
        conn.execute(
            "INSERT INTO articles SELECT * FROM src.articles WHERE id NOT IN (SELECT id FROM gone)"
        )
        conn.execute(
            "INSERT INTO chunks SELECT r.new, c.id, c.article_id, c.ord, c.start, c.end, c.text, c.heading, "
            "c.url, c.embed_key FROM src.chunks c JOIN remap r ON r.old = c.row ORDER BY r.new"
        )
        conn.execute(
            "INSERT INTO mentions SELECT r.new, m.code, m.name, m.prefecture, m.level, m.lat, m.lon, m.role, "
            "m.start, m.end FROM src.mentions m JOIN remap r ON r.old = m.row"
        )
        if segment.words:
            conn.execute(
                "INSERT INTO words SELECT r.new, w.spans FROM src.words w JOIN remap r ON r.old = w.row"
            )
        else:  # a segment written before words were stored: work them out now
            texts = conn.execute(
                "SELECT c.row, c.text FROM chunks c JOIN remap r ON r.new = c.row"
            ).fetchall()
            metadb.insert_words(
                conn, [(row, text, lexical.word_spans(text)) for row, text in texts]
            )
        conn.execute("DROP TABLE remap")
        conn.execute("DROP TABLE gone")
        conn.commit()
    finally:
        conn.execute("DETACH DATABASE src")


def _finish(directory: Path, matrix: np.ndarray, lexical: postings.Postings, articles: int) -> dict:
    kind = vectors.kind_for(len(matrix))
    vectors.save(vectors.build(matrix, kind), directory)
    postings.save(lexical, directory / LEXICAL)
    info = {
        "rows": len(lexical.lengths),
        "articles": articles,
        "kind": kind,
        "files": check.file_digests(directory),
    }
    (directory / INFO).write_text(json.dumps(info, ensure_ascii=False, indent=1), "utf-8")
    return info
