"""Queries that arrive together are embedded in one forward pass; a lone query never waits for company."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, cast

import numpy as np

from indexer.model.base import Embedder

MAX_BATCH = 8
WINDOW_SECONDS = 0.002


class _Item:
    __slots__ = ("text", "vector", "error", "done")
    text: str
    vector: np.ndarray | None
    error: BaseException | None
    done: bool

    def __init__(self, text: str) -> None:
        self.text, self.vector, self.error, self.done = text, None, None, False


class QueryBatcher:
    """Wraps an embedder for many request threads (leader/follower, no thread of its own).

    A query arriving while no forward pass runs is embedded at once by its own thread, with no hand-over. Queries
    arriving during a pass queue up; when it ends, one of their threads takes everything queued (up to
    `max_batch`) as the next batch. While queries keep coming together (the last batch had company) the leader
    also waits up to `window` seconds for more. A query that fails alone gets its own error; the others in its
    batch still get their vectors. Passages and token counts go straight to the wrapped embedder.
    """

    def __init__(
        self, inner: Embedder, max_batch: int = MAX_BATCH, window: float = WINDOW_SECONDS
    ) -> None:
        self.inner, self.max_batch, self.window = inner, max(1, max_batch), max(0.0, window)
        self._cond = threading.Condition()
        self._pending: deque[_Item] = deque()
        self._busy = False
        self._last = 1
        self.batches = self.queries = self.largest = 0
        self.seconds = 0.0  # spent in forward passes

    @property
    def info(self) -> Any:
        return self.inner.info

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        items = [_Item(t) for t in texts]
        if not items:
            return self.inner.encode_queries([])
        with self._cond:
            self._pending.extend(items)
            while not all(item.done for item in items):
                if self._busy:
                    self._cond.wait()
                else:
                    self._lead()
        failed = next((item.error for item in items if item.error is not None), None)
        if failed is not None:
            raise failed
        # every item is done and none failed, so each has its vector
        return np.stack([cast(np.ndarray, item.vector) for item in items])

    def _lead(self) -> None:
        """Run one batch (called holding the lock, which is let go during the forward pass)."""
        self._busy = True
        try:
            if self._last > 1 and len(self._pending) < self.max_batch and self.window:
                self._cond.wait(timeout=self.window)  # others are busy too: a moment for company
            batch = [
                self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))
            ]
            self._last = len(batch)
            self.batches, self.queries = self.batches + 1, self.queries + len(batch)
            self.largest = max(self.largest, len(batch))
            self._cond.release()
            began = time.perf_counter()
            try:
                self._embed(batch)
            except (
                BaseException
            ) as exc:  # an interrupt: no thread may wait forever for a query taken here
                for item in batch:
                    if not item.done:
                        item.error, item.done = exc, True
                raise
            finally:
                self._cond.acquire()
                self.seconds += time.perf_counter() - began
        finally:
            self._busy = False
            self._cond.notify_all()

    def _embed(self, batch: list[_Item]) -> None:
        try:
            vectors = self.inner.encode_queries([item.text for item in batch])
        except Exception as exc:  # noqa: BLE001 - handed to the query's own thread
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
            else:
                for (
                    item
                ) in batch:  # one bad query must not fail its neighbours: each is tried alone
                    self._embed([item])
            return
        for item, vector in zip(batch, vectors):
            item.vector, item.done = vector, True

    def encode_passages(self, texts: list[str], **options: Any) -> np.ndarray:
        return self.inner.encode_passages(texts, **options)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def stats(self) -> dict:
        return {
            "batches": self.batches,
            "queries": self.queries,
            "largest_batch": self.largest,
            "max_batch": self.max_batch,
            "window_ms": round(self.window * 1000, 3),
            "embedding_seconds": round(self.seconds, 3),
        }
