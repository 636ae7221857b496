"""Queries that arrive together are embedded in one forward pass; a lone query never waits for company."""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.embedder import Embedder

MAX_BATCH = 8
WINDOW_SECONDS = 0.002


@dataclass(frozen=True)
class _Item:
    text: str
    future: Future


class QueryBatcher:
    """Wraps an embedder: `submit` queues a query for the one embedding thread, which takes everything queued
    (up to `max_batch`) as one batch. It waits up to `window` seconds for more only while queries keep arriving
    together (the last batch had company), so a lone query is embedded at once. A query that fails alone is
    answered with its own error; the others in its batch still get their vectors. Passages and token counts go
    straight to the wrapped embedder, never behind queries."""

    def __init__(self, inner: Embedder, max_batch: int = MAX_BATCH, window: float = WINDOW_SECONDS) -> None:
        self.inner, self.max_batch, self.window = inner, max(1, max_batch), max(0.0, window)
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._last = 1
        self._closed = False
        self._closing = threading.Lock()
        self.batches = self.queries = self.largest = 0
        self._thread = threading.Thread(target=self._run, name="query-batcher", daemon=True)
        self._thread.start()

    @property
    def info(self) -> Any:
        return self.inner.info

    def submit(self, text: str) -> Future:
        """A future of the query's vector (computed here and now once the batcher is closed)."""
        future: Future = Future()
        with self._closing:
            if not self._closed:
                self._queue.put(_Item(text, future))
                return future
        try:
            future.set_result(self.inner.encode_queries([text])[0])
        except BaseException as exc:  # noqa: BLE001 - the caller gets it from the future, as from the thread
            future.set_exception(exc)
        return future

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        futures = [self.submit(t) for t in texts]
        if not futures:
            return self.inner.encode_queries([])
        return np.stack([f.result() for f in futures])

    def encode_passages(self, texts: list[str], batch_size: int = 16, show_progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, batch_size=batch_size, show_progress=show_progress)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def stats(self) -> dict:
        return {"batches": self.batches, "queries": self.queries, "largest_batch": self.largest,
                "max_batch": self.max_batch, "window_ms": round(self.window * 1000, 3)}

    def close(self) -> None:
        """Stop the embedding thread after the queries already queued."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch, stop = self._collect(first)
            self._last = len(batch)
            self.batches, self.queries = self.batches + 1, self.queries + len(batch)
            self.largest = max(self.largest, len(batch))
            self._embed(batch)
            if stop:
                return

    def _collect(self, first: _Item) -> tuple[list[_Item], bool]:
        """The first query and whatever else is queued; waits up to the window only under concurrent load."""
        batch = [first]
        deadline = time.monotonic() + (self.window if self._last > 1 else 0.0)
        while len(batch) < self.max_batch:
            try:
                left = deadline - time.monotonic()
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _embed(self, batch: list[_Item]) -> None:
        try:
            vectors = self.inner.encode_queries([item.text for item in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request, never lost in this thread
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
            else:
                for item in batch:  # one bad query must not fail its neighbours: each is tried alone
                    self._embed([item])
            return
        for item, vector in zip(batch, vectors):
            item.future.set_result(vector)
