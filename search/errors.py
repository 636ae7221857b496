"""Errors a caller made, worded in Japanese and English."""
from __future__ import annotations

from common.errors import UserError


class QueryError(UserError, ValueError):
    """A request that cannot be answered as asked; `field` names the culprit."""

    status, code = 422, "invalid_parameter"

    def __init__(self, field: str, ja: str, en: str) -> None:
        super().__init__(ja, en, field=field)
