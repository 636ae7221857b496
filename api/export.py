"""A search answer as CSV for Excel: UTF-8 with a BOM, a header row, one row per passage."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

HEADER = (
    "順位 rank",
    "スコア score",
    "題名 title",
    "掲載元 source",
    "掲載日 date",
    "URL",
    "自治体 municipalities",
    "文章 text",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A value Excel shows as text: a leading =, +, -, @ would start a formula (CSV injection), so it gets a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def places(passage: dict) -> str:
    """宇佐市 (442119); 大分県 (440001)."""
    return "; ".join(f"{p['name']} ({p['code']})" for p in passage["municipalities"])


def to_csv(answer: dict) -> bytes:
    """The answer's passages in rank order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for rank, p in enumerate(answer["passages"], 1):
        writer.writerow(
            [
                rank,
                p["score"],
                *(cell(p[k]) for k in ("title", "source", "published", "url")),
                cell(places(p)),
                cell(p["text"]),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def disposition(answer: dict) -> str:
    """An attachment with an ASCII file name, and the query's own in `filename*` (RFC 6266) for browsers."""
    named = quote(f"jsearch-{answer['query'][:40]}.csv")
    return f"attachment; filename=\"jsearch-{answer['generation']}.csv\"; filename*=UTF-8''{named}"
