"""Similar cases: the passages nearest to one passage, from other articles, other places' first."""

from __future__ import annotations

import numpy as np

from indexer.stores.base import CommitView
from search.errors import NotFound
from search.passages import passage, places_by_row
from search.ranking import rank_places

POOL = 200


def _subjects(places: list[dict]) -> set[str]:
    return {p["code"] for p in places if p["role"] != "mention"}


def _about_only(subjects: set[str], mine: set[str]) -> bool:
    """Whether a passage is about none but the source passage's own places (such passages go last)."""
    return bool(subjects) and bool(mine) and subjects <= mine


def similar(view: CommitView, passage_id: str, k: int) -> dict:
    """{passage, passages, municipalities}: nearest passages by cosine from other articles; those about the same
    places as the passage come after the others; the passage's own places are left out of the ranking."""
    row = view.find_chunk(passage_id)
    if row is None:
        raise NotFound(
            "id", f"この ID の文章はありません: {passage_id}", f"no passage has id {passage_id!r}"
        )
    scores, rows = view.search_dense(view.vector_of(row), max(POOL, 5 * k))
    chunks, mentions = view.fetch(np.concatenate([[row], rows]).astype(np.int64))
    places = places_by_row(mentions)
    own = chunks[row]
    mine = _subjects(places.get(row, []))
    near = [
        (int(r), float(s))
        for s, r in zip(scores, rows)
        if chunks[int(r)]["article_id"] != own["article_id"]
    ]
    near.sort(
        key=lambda item: _about_only(_subjects(places.get(item[0], [])), mine)
    )  # stable: cosine order kept
    items = [passage(chunks[r], places.get(r, []), s, s, 0.0, []) for r, s in near[:k]]
    ranked = [p for p in rank_places(items) if p["code"] not in mine]
    return {
        "passage": passage(own, places.get(row, []), 1.0, 1.0, 0.0, []),
        "passages": items,
        "municipalities": ranked,
    }
