"""Metadata that article text gives away: published dates, URLs, title and source lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

URL_RE = re.compile(r"https?://[^\s<>\"'（）「」、。]+")
DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[./年\-]\s*(?P<m>\d{1,2})\s*[./月\-]\s*(?P<d>\d{1,2})\s*日?"
)
LABEL_MAX = 20
HEADING_MAX = 80


@dataclass(frozen=True)
class Header:
    """Title, source and date read from the first lines of a plain-text article."""

    title: str
    source: str
    published: str | None


def find_urls(text: str) -> tuple[str, ...]:
    """Every URL in the text, in order, without duplicates."""
    return tuple(dict.fromkeys(m.group(0).rstrip(").,") for m in URL_RE.finditer(text)))


def parse_date(text: str) -> str | None:
    """The first valid date in the text as ISO `YYYY-MM-DD` (forms `2020.04.30`, `2022.10/27`, `2021年4月1日`)."""
    for match in DATE_RE.finditer(text.translate(_FULLWIDTH_DIGITS)):
        year, month, day = (int(match.group(g)) for g in ("y", "m", "d"))
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．／－", "0123456789./-")


def is_date_line(line: str) -> bool:
    """A line that is little more than a date (`2021.10.21`, `更新日:2022.10/27(木)`)."""
    return parse_date(line) is not None and len(DATE_RE.sub("", line).strip()) <= 8


def _is_heading_like(line: str) -> bool:
    return (
        0 < len(line) <= HEADING_MAX
        and not line.endswith(("。", "…", "、"))
        and not is_date_line(line)
    )


def read_header(lines: list[str]) -> Header:
    """Title, source and date from the first non-empty lines.

    The first non-empty line is the title, except when it is a short label (a site or
    section name such as `ジチタイワークス`) followed, after an optional date line, by a
    heading-like line: then the label is the source and that line the title.
    """
    head = [line.strip() for line in lines if line.strip()][:8]
    if not head:
        return Header("", "", None)
    published = next((parse_date(line) for line in head[:6] if parse_date(line)), None)
    rest = [line for line in head[1:4] if not is_date_line(line)]
    first = head[0]
    if len(first) <= LABEL_MAX and rest and _is_heading_like(rest[0]) and len(rest[0]) > len(first):
        return Header(rest[0], first, published)
    source = (
        rest[0]
        if rest and len(rest[0]) <= LABEL_MAX and rest[0] != first and _is_heading_like(rest[0])
        else ""
    )
    return Header(first, source, published)
