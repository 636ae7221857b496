"""Errors a caller made, worded in Japanese and English."""
from __future__ import annotations


class QueryError(ValueError):
    """A request that cannot be answered as asked; `field` names the culprit."""

    def __init__(self, field: str, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.field, self.ja, self.en = field, ja, en
