"""Filters applied before ranking: place, source and publication dates, turned into allowed rows."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date

from search.errors import QueryError

_CODE = re.compile(r"^\d{5,6}$")


@dataclass(frozen=True)
class Filters:
    """What a passage must satisfy; empty fields filter nothing."""

    prefecture: str | None = None
    municipality: str | None = None
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def empty(self) -> bool:
        return not any(
            (self.prefecture, self.municipality, self.source, self.date_from, self.date_to)
        )


def _iso(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise QueryError(
            field,
            f"日付の形式が正しくありません: {value}（YYYY-MM-DD）",
            f"invalid date {value!r}; use YYYY-MM-DD",
        ) from None


def validate(filters: Filters, prefectures: set[str]) -> Filters:
    """Checked filters: known prefecture, 5/6-digit code, real dates in order."""
    if filters.prefecture and filters.prefecture not in prefectures:
        raise QueryError(
            "prefecture",
            f"都道府県名が不明です: {filters.prefecture}",
            f"unknown prefecture {filters.prefecture!r}",
        )
    if filters.municipality and not _CODE.match(filters.municipality):
        raise QueryError(
            "municipality",
            f"団体コードは5桁か6桁の数字です: {filters.municipality}",
            f"a municipality code has 5 or 6 digits, not {filters.municipality!r}",
        )
    start, end = _iso(filters.date_from, "date_from"), _iso(filters.date_to, "date_to")
    if start and end and start > end:
        raise QueryError(
            "date_from",
            f"期間の開始 {start} が終了 {end} より後です",
            f"the date range is empty: {start} is after {end}",
        )
    return Filters(filters.prefecture, filters.municipality, filters.source, start, end)


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


def _string(value: str) -> str:
    """A string literal for a Milvus expression (JSON quoting and escapes, which its parser reads)."""
    return json.dumps(value, ensure_ascii=False)


def expression(filters: Filters) -> str:
    """The same filters as a Milvus boolean expression over the passage collection's fields."""
    where = []
    if filters.prefecture:
        where.append(f"array_contains(prefectures, {_string(filters.prefecture)})")
    if filters.municipality:
        where.append(f"array_contains(codes, {_string(filters.municipality[:5])})")
    if filters.source:
        where.append(f"source == {_string(filters.source)}")
    if filters.date_from:
        where.append(f'published != "" and published >= {_string(filters.date_from)}')
    if filters.date_to:
        where.append(f'published != "" and published <= {_string(filters.date_to)}')
    return " and ".join(where)


def allowed_rows(generation, filters: Filters):
    """What a search may return under the filters, as the store evaluates it before ranking: live global rows for
    the FAISS store, an expression for Milvus; None when nothing is filtered."""
    if filters.empty():
        return None
    return generation.restrict(filters)
