"""Filters as a request gives them, checked (known prefecture, code shape, real dates in order) before a store applies them."""

from __future__ import annotations

import re
from datetime import date

from indexer.stores.base import Filters
from search.errors import QueryError

# The rules below, as the published schema states them (a pattern matches the whole value; empty = no filter).
CODE_PATTERN = r"^([0-9]{5,6})?$"
DATE_SCHEMA = {  # a calendar date (RFC 3339 full-date, what the server reads), or empty for no filter
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "maxLength": 0},
        {"type": "null"},
    ]
}
# Unicode's Cc (less the spaces that are folded) and Co: the private-use planes as literal characters, which
# both ECMA (u flag) and Python regular expressions read.
_CONTROL = r"\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ue000-\uf8ff" + "\U000f0000-\U0010ffff"
QUERY_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"  # a word, no control characters
PREFIX_PATTERN = rf"^[^{_CONTROL}]*$"  # what is typed so far: maybe nothing, no control characters

_CODE = re.compile(r"^[0-9]{5,6}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def prefecture_names(schema: dict) -> None:
    """The prefectures a filter may name, into a parameter's published schema (empty = no filter)."""
    from indexer.places.gazetteer import Gazetteer

    schema["enum"] = ["", *(p.name for p in Gazetteer.load().prefectures())]


def _iso(value: str | None, field: str) -> str | None:
    if not value:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
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


def allowed_rows(view, filters: Filters):
    """What a search may return under the filters, as the store evaluates it before ranking: live global rows for
    the FAISS store, an expression for Milvus; None when nothing is filtered."""
    if filters.empty():
        return None
    return view.restrict(filters)
