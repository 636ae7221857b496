"""After each write: the served commit point's new articles, their passages matched against every saved search."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from api.saved.store import Hit, SavedStore, now
from indexer.stores.base import CommitView
from search.percolate import NewPassage, percolate

log = logging.getLogger("jsearch.saved")


class Percolator:
    """`catch_up(view)` looks once at each commit point: the articles it holds that were never looked at are new;
    their passages (text and stored vectors, as the write left them) are scored against the saved searches. The
    first look only records what is there (a saved search announces what arrives after it)."""

    def __init__(
        self, store: SavedStore, announce: Callable[[list[tuple[str, Hit]]], None] | None = None
    ):
        self.store, self.announce = store, announce
        self._lock = threading.Lock()
        self._last: str | None = None
        self._seen: set[str] | None = None
        self.last_seconds = 0.0
        self.last_passages = 0

    def catch_up(self, view: CommitView) -> int:
        """Match the new articles of `view`; the number of matches found. Never raises (the write is done)."""
        try:
            with self._lock:
                return self._catch_up(view)
        except Exception:  # noqa: BLE001 - a failed match must not fail the write; the next write retries
            log.exception("保存した検索の照合に失敗しました / matching saved searches failed")
            return 0

    def _catch_up(self, view: CommitView) -> int:
        if view.name == self._last:
            return 0
        began = time.perf_counter()
        ids = view.article_ids()
        if self._seen is None:
            self._seen = self.store.seen()
        if self.store.baseline() is None:
            self.store.record(sorted(ids - self._seen), [], baseline=view.name)
            self._seen |= ids
            self._last = view.name
            return 0
        new = sorted(ids - self._seen)
        passages, meta = self._passages(view, new)
        queries, vectors = self.store.queries()
        matches = percolate(queries, passages, vectors=vectors)
        best: dict[tuple[str, str], tuple[float, NewPassage, float, float]] = {}
        for m in matches:
            key = (m.query_id, m.passage.article_id)
            score = m.dense + m.coverage
            if key not in best or score > best[key][0]:
                best[key] = (score, m.passage, m.dense, m.coverage)
        found = now()
        hits = [
            (sid, self._hit(passage, meta[passage.article_id], dense, cover, found))
            for (sid, _), (_, passage, dense, cover) in best.items()
        ]
        self.store.record(new, hits)
        self._seen |= set(new)
        self._last = view.name
        self.last_seconds, self.last_passages = time.perf_counter() - began, len(passages)
        if hits and self.announce is not None:
            self.announce(hits)
        return len(hits)

    @staticmethod
    def _passages(view: CommitView, article_ids: list[str]) -> tuple[list[NewPassage], dict]:
        passages: list[NewPassage] = []
        meta: dict[str, dict] = {}
        for article_id in article_ids:
            found = view.article_view(article_id)
            if found is None:
                continue
            article, chunks, places = found
            meta[article_id] = {
                "title": article["title"],
                "url": article["url"],
                "source": article["source"],
                "published": article["published"],
                "places": {},
            }
            for chunk in chunks:
                row = view.find_chunk(chunk["id"])
                if row is None:
                    continue
                named = places.get(chunk["row"], [])
                meta[article_id]["places"][chunk["id"]] = [
                    {
                        "code": p["code"],
                        "name": p["name"],
                        "prefecture": p["prefecture"],
                        "role": p["role"],
                    }
                    for p in named
                ]
                passages.append(
                    NewPassage(
                        chunk["id"],
                        article_id,
                        chunk["text"],
                        np.asarray(view.vector_of(row), np.float32),
                        article["source"],
                        article["published"],
                        tuple((p["code"], p["prefecture"]) for p in named),
                    )
                )
        return passages, meta

    @staticmethod
    def _hit(passage: NewPassage, meta: dict, dense: float, cover: float, found: str) -> Hit:
        return Hit(
            passage.article_id,
            passage.id,
            meta["title"],
            meta["url"],
            meta["source"],
            meta["published"],
            passage.text,
            meta["places"].get(passage.id, []),
            round(dense, 4),
            round(cover, 4),
            found,
        )
