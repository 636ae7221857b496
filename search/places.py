"""A place's page: every live passage that names it, the passages about it first, newest first, paged."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.places.gazetteer import Gazetteer, Place, is_full_code
from indexer.stores.base import CommitView, descending
from search.errors import NotFound, QueryError
from search.highlight import Span
from search.passages import passage, places_by_row
from search.ranking import ROLE_WEIGHT

ROLE_ORDER = {"subject": 0, "inherited": 1, "mention": 2}
MAX_LIMIT = 100


def checked_place(code: str, gazetteer: Gazetteer) -> Place:
    """The place of a 6-digit code: 422 when malformed (not 6 digits, wrong check digit), 404 when unknown."""
    if not is_full_code(code):
        raise QueryError(
            "code",
            f"団体コードは検査数字つきの6桁です: {code}",
            f"a local government code has 6 digits with its check digit, not {code!r}",
        )
    try:
        return gazetteer.by_code(code)
    except KeyError:
        raise NotFound(
            "code",
            f"この団体コードの自治体はありません: {code}",
            f"no local government has code {code}",
        ) from None


def _order(found: list[tuple[int, str, str | None, str, int]]) -> list[tuple[int, str]]:
    """One entry per row with its strongest role; about the place first, then newest, then article order."""
    best: dict[int, tuple] = {}
    for row, role, published, article, order in found:
        key = (min(ROLE_ORDER[role], 1), published is None, descending(published), article, order)
        if row not in best or ROLE_ORDER[role] < ROLE_ORDER[best[row][1]]:
            best[row] = (key, role)
    return [(row, role) for row, (key, role) in sorted(best.items(), key=lambda item: item[1][0])]


def place_page(
    view: CommitView, place: Place, limit: int, offset: int, former: Sequence[str] = ()
) -> dict:
    """The page of a place: its facts and one page of the passages that name it (name highlighted)."""
    ordered = _order(view.place_rows(place.code))
    window = ordered[offset : offset + limit]
    chunks, mentions = view.fetch(np.array([row for row, _ in window], np.int64))
    places = places_by_row(mentions)
    items = []
    for row, role in window:
        spans = sorted(
            {
                (m["start"], m["end"])
                for m in mentions.get(row, ())
                if m["code"][:5] == place.code[:5] and m["start"] >= 0
            }
        )
        item = passage(
            chunks[row], places.get(row, []), ROLE_WEIGHT[role], 0.0, 0.0, [Span(*s) for s in spans]
        )
        items.append({**item, "role": role})
    return {
        **place.to_json_geo(),
        "kind": place.kind,
        "former_names": list(former),
        "total": len(ordered),
        "limit": limit,
        "offset": offset,
        "passages": items,
    }
