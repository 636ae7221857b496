"""Schemathesis hooks for the contract run (named by schemathesis.toml): the one rule across two parameters."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    """GET /search refuses a date_from after its date_to (422 「期間の開始…が終了…より後です」): a rule between two
    parameters, which OpenAPI cannot state, so such pairs are not generated as valid requests."""
    if not query:
        return True
    start, end = query.get("date_from"), query.get("date_to")
    return not (isinstance(start, str) and isinstance(end, str) and start and end and start > end)


@schemathesis.deserializer("text/csv")
def deserialize_csv(ctx: Any, response: Any) -> str:
    """`GET /search?format=csv` answers text, as its schema says (`type: string`); a link that follows it finds
    no municipality in it (the stateful phase otherwise stops, unable to read the media type)."""
    return response.content.decode("utf-8")
