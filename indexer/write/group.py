"""Group commit: writes that arrive together (concurrent POSTs, a burst of deletes) become one segment, not one
per article; after each commit, a merge runs in the background when the policy asks for one."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

from corpus.article import Article
from indexer.model.base import Embedder
from indexer.stores.spec import StoreSpec
from indexer.write import changes, indexing

log = logging.getLogger("jsearch.writer")

WINDOW_SECONDS = 0.005  # how long the writer waits for more writes once one has arrived
MAX_BATCH = 256


def combine(batch: Sequence[changes.Change]) -> changes.Change:
    """One change doing what the given ones do in order: a later upsert or remove of an id wins."""
    upserts: dict[str, Article] = {}
    removes: dict[str, None] = {}
    for change in batch:
        for article_id in change.remove:
            upserts.pop(article_id, None)
            removes[article_id] = None
        for article in change.upsert:
            upserts[article.id] = article
    return changes.Change(upsert=tuple(upserts.values()), remove=tuple(removes))


def _whole(change: changes.Change) -> bool:
    """A change that must be applied as it is, never combined with others."""
    return change.replace_all or change.prune_missing or bool(change.sources)


class GroupWriter:
    """The server's single writer thread: `submit` blocks until the batch holding the change is committed and
    `after` (the server's switch to the new commit point) has run."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        lock_timeout: float,
        after: Callable[[], None] = lambda: None,
        merging: bool = True,
        store: StoreSpec = indexing.FAISS,
    ) -> None:
        self.index_dir, self.embedder, self.lock_timeout, self.store = (
            index_dir,
            embedder,
            lock_timeout,
            store,
        )
        self.after, self.merging = after, merging
        self._queue: queue.Queue[tuple[changes.Change, Future]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="jsearch-writer", daemon=True)
        self._thread.start()
        self._merge_wanted = threading.Event()
        self._merger = threading.Thread(target=self._merge_loop, name="jsearch-merger", daemon=True)
        self._merger.start()

    def submit(self, change: changes.Change) -> changes.Report:
        done: Future = Future()
        self._queue.put((change, done))
        return done.result()

    def request_merge(self) -> None:
        """Let the background merger look at the index (after each committed batch)."""
        if self.merging:
            self._merge_wanted.set()

    def _batches(self) -> Iterator[list[tuple[changes.Change, Future]]]:
        """Plain upserts and removes that arrive together, as one batch; a change that rebuilds, prunes or
        records sources (a reindex job) is a batch of its own, in its turn."""
        waiting = [self._queue.get()]
        while len(waiting) < MAX_BATCH:
            try:
                waiting.append(self._queue.get(timeout=WINDOW_SECONDS))
            except queue.Empty:
                break
        batch: list[tuple[changes.Change, Future]] = []
        for item in waiting:
            if _whole(item[0]):
                if batch:
                    yield batch
                yield [item]
                batch = []
            else:
                batch.append(item)
        if batch:
            yield batch

    def _loop(self) -> None:
        while True:
            for batch in self._batches():
                self._write(batch)

    def _write(self, batch: list[tuple[changes.Change, Future]]) -> None:
        try:
            report = indexing.apply(
                self.index_dir,
                batch[0][0] if len(batch) == 1 else combine([c for c, _ in batch]),
                self.embedder,
                self.store,
                lock_timeout=self.lock_timeout,
            )
        except BaseException as exc:  # noqa: BLE001 - every waiting request gets the error
            for _, done in batch:
                done.set_exception(exc)
            return
        try:
            self.after()
        except Exception:  # noqa: BLE001 - the write is committed; a failed refresh is retried by the refresher
            log.exception("索引の切り替えに失敗しました / switching to the new index failed")
        for _, done in batch:
            done.set_result(report)
        self.request_merge()

    def _merge_loop(self) -> None:
        while True:
            self._merge_wanted.wait()
            self._merge_wanted.clear()
            try:
                while (
                    indexing.merge_after(self.index_dir, self.store, self.lock_timeout) is not None
                ):
                    self.after()
            except Exception:  # noqa: BLE001 - a failed merge leaves the last commit point served
                log.exception("セグメントの統合に失敗しました / a segment merge failed")
