"""The other URLs an article was also found at (its near-duplicates), read from the crawl state for answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

FILE = "crawl.sqlite"  # the crawl state, inside the index directory


def also_at(folder: Path, article_ids: Sequence[str]) -> dict[str, list[str]]:
    """The other URLs of each article; {} when the index was never crawled (or the state cannot be read)."""
    path = folder / FILE
    if not article_ids or not path.is_file():
        return {}
    ids = list(dict.fromkeys(article_ids))
    found: dict[str, list[str]] = {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for article, url in conn.execute(
                    "SELECT article_id, url FROM duplicates WHERE article_id IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY url",
                    chunk,
                ):
                    found.setdefault(article, []).append(url)
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return found
