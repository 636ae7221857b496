"""Saving a search, the same for the HTTP API and the CLI: the query and filters checked as `/search` checks them,
its vector and word weights fixed, what the index already holds recorded as seen."""

from __future__ import annotations

from api.saved.percolator import Percolator
from api.saved.store import Saved, SavedStore
from indexer.stores.base import Filters
from search import evidence
from search.engine import Engine, clean_query
from search.filters import validate
from search.percolate import query_parts


def save(
    store: SavedStore, percolator: Percolator, engine: Engine, name: str, q: str, filters: Filters
) -> Saved:
    """A new saved search (UserError, 422, for a bad query or filter)."""
    text = clean_query(q)
    checked = validate(filters, engine.prefectures)
    view = engine.view
    percolator.catch_up(view)  # what is already there is not announced
    vector = engine.embedder.encode_queries([text])[0]
    words, weights = query_parts(text, view.lexical_stats(list(evidence.query_words(text))))
    return store.add(name.strip(), text, checked, vector, words, weights)
