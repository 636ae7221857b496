"""Filters as SQL over one segment's chunks and articles: the rows they allow."""

from __future__ import annotations

import sqlite3

from indexer.stores.base import Filters


def _clauses(filters: Filters) -> tuple[list[str], list]:
    where, args = [], []
    if filters.prefecture:
        where.append("c.row IN (SELECT row FROM mentions WHERE prefecture = ?)")
        args.append(filters.prefecture)
    if filters.municipality:
        where.append("c.row IN (SELECT row FROM mentions WHERE substr(code, 1, 5) = ?)")
        args.append(filters.municipality[:5])
    if filters.source:
        where.append("a.source = ?")
        args.append(filters.source)
    if filters.date_from:
        where.append("a.published >= ?")
        args.append(filters.date_from)
    if filters.date_to:
        where.append("a.published <= ?")
        args.append(filters.date_to)
    return where, args


def matching_rows(conn: sqlite3.Connection, filters: Filters) -> list[int]:
    """The rows of one segment that pass the filters (which must not be empty)."""
    where, args = _clauses(filters)
    sql = "SELECT c.row FROM chunks c JOIN articles a ON a.id = c.article_id WHERE " + " AND ".join(
        where
    )
    return [r[0] for r in conn.execute(sql, args)]
