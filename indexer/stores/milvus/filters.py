"""Filters as a Milvus boolean expression over the passage collection's fields."""

from __future__ import annotations

import json

from indexer.stores.base import Filters


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
