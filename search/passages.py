"""Passage objects of the public JSON answer, built from stored chunk rows, their places and their spans."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpus.crawl.also import also_at
from indexer.analysis.words import unpack_words
from indexer.stores.base import CommitView
from search.highlight import Span, snippet, spans_of_terms

PLACE_FIELDS = ("code", "name", "prefecture", "level", "role", "lat", "lon")


def places_by_row(mentions: dict[int, list]) -> dict[int, list[dict]]:
    """Each row's places as answer objects, in text order."""
    return {
        row: [{k: m[k] for k in PLACE_FIELDS} for m in found] for row, found in mentions.items()
    }


def passage(
    chunk, places: list[dict], score: float, dense: float, lex: float, spans: list[Span]
) -> dict:
    """One passage object: the same keys for /search, municipality pages and similar cases."""
    return {
        "id": chunk["id"],
        "article_id": chunk["article_id"],
        "title": chunk["title"],
        "source": chunk["source"],
        "published": chunk["published"],
        "url": chunk["url"],
        "text": chunk["text"],
        "start": chunk["start"],
        "end": chunk["end"],
        "score": round(score, 4),
        "heading": chunk["heading"],
        "scores": {"dense": round(dense, 4), "lexical": round(lex, 4)},
        "municipalities": places,
        "highlights": [{"start": s.start, "end": s.end} for s in spans],
        "snippet": snippet(chunk["text"], spans),
        "also_at": [],
    }


def with_also_at(index_dir: Path, passages: list[dict]) -> list[dict]:
    """Fill each passage's `also_at`: the other URLs its article was found at by the crawler (near-duplicates)."""
    found = also_at(index_dir, [p["article_id"] for p in passages])
    for item in passages:
        item["also_at"] = list(found.get(item["article_id"], []))
    return passages


def ranked_passages(
    view: CommitView,
    rows: np.ndarray,
    scores: np.ndarray,
    dense: np.ndarray,
    lexical: np.ndarray,
    terms: frozenset[str],
) -> list[dict]:
    """Passage objects in the given order, highlighted with the query's words."""
    ids = [int(r) for r in rows]
    if not ids:
        return []
    chunks, mentions = view.fetch(np.array(ids, np.int64))
    places = places_by_row(mentions)
    return [
        passage(
            chunks[row],
            places.get(row, []),
            float(s),
            float(d),
            float(lx),
            spans_of_terms(chunks[row]["text"], terms, stored_words(chunks[row])),
        )
        for row, s, d, lx in zip(ids, scores, dense, lexical)
    ]


def stored_words(chunk) -> list | None:
    """The chunk's content words as its segment stored them; None where they were not (then worked out anew)."""
    packed = chunk["words"] if "words" in chunk.keys() else None
    return unpack_words(chunk["text"], packed) if packed is not None else None
