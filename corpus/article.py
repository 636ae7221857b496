"""The Article record every loader produces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One source article: its text as read, plus the metadata the text gives."""

    id: str
    title: str
    text: str
    source: str = ""
    published: str | None = None
    url: str = ""
    path: str = ""
    urls: tuple[str, ...] = field(default_factory=tuple)

    @property
    def content_hash(self) -> str:
        """A digest of everything indexing depends on."""
        parts = (self.title, self.text, self.source, self.published or "", self.url)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def article_id(key: str) -> str:
    """A stable id from a stable key (a file name, or a URL)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
