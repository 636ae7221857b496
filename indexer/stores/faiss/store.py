"""The FAISS store behind the store protocol: segments and commit points inside the index directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from indexer.model.base import Embedder
from indexer.stores import manifest
from indexer.stores.base import Merged
from indexer.stores.faiss import check, commit, layout, merge, snapshot, vectors, writer
from indexer.stores.faiss.layout import IndexDir
from indexer.stores.faiss.reader import FaissCommit, load
from indexer.stores.spec import StoreSpec
from indexer.write.changes import Change, Report
from indexer.write.pipeline import LOCAL, Pipeline


class FaissStore:
    """Immutable segments under atomic commit points in `index_dir`; merged by the product's tiered policy."""

    merges = True

    def __init__(self, index_dir: Path) -> None:
        self.spec, self.index_dir, self.index = StoreSpec(), Path(index_dir), IndexDir(index_dir)

    def describe(self) -> str:
        return self.spec.describe()

    def apply(
        self,
        change: Change,
        embedder: Embedder,
        progress: bool = False,
        lock_timeout: float = 30,
        pipeline: Pipeline | None = None,
    ) -> Report:
        return writer.apply(
            self.index_dir,
            change,
            embedder,
            progress=progress,
            lock_timeout=lock_timeout,
            pipeline=pipeline or LOCAL,
        )

    def recorded_sources(self) -> list[str]:
        current = self.index.current()
        return manifest.read(current).sources if current else []

    def live_ids(self, ids: Sequence[str]) -> set[str]:
        info = manifest.read(self.index.require_current())
        return set(commit.lookup(self.index, commit.entries_of(info), ids))

    def require_index(self) -> None:
        self.index.require_current()

    def precision(self) -> str | None:
        """The precision of the vectors the current commit point holds; None when there is none."""
        current = self.index.current()
        return manifest.read(current).precision if current else None

    def check(self) -> dict:
        return check.report(self.index)

    def synonyms(self) -> list[list[str]]:
        current = self.index.current()
        return manifest.read(current).synonyms if current else []

    def set_synonyms(self, groups: list[list[str]], lock_timeout: float = 30) -> str:
        """A new commit point over the same segments with these own synonym groups; running servers load it as
        they load any commit. Returns its name."""
        lock = layout.acquire(self.index, lock_timeout)
        try:
            current = manifest.read(self.index.require_current())
            entries = commit.entries_of(current)
            name = commit.publish(
                self.index, commit.listing(replace(current, synonyms=groups), entries)
            )
            layout.clean(self.index)
        finally:
            lock.release()
        return name

    def merge(self, max_segments: int | None = None, lock_timeout: float = 60) -> Merged | None:
        return merge.maybe_merge(self.index_dir, max_segments, lock_timeout)

    def commits(self) -> FaissSource:
        return FaissSource(self.index_dir)

    def scratch(self, folder: Path) -> StoreSpec:
        """The store a throw-away index (an evaluation) is written to: FAISS in the folder."""
        return StoreSpec()

    def snapshot(self, dest: Path) -> dict:
        return asdict(snapshot.take(self.index_dir, dest))

    def restore(self, src: Path, lock_timeout: float = 30) -> dict:
        return asdict(snapshot.restore(src, self.index_dir, lock_timeout))


class FaissSource:
    """Commit points in an index directory; segments already open are shared by the next one."""

    def __init__(self, index_dir: Path) -> None:
        self.index = IndexDir(index_dir)
        vectors.serve_searches()  # a process that reads commit points serves searches

    def current(self) -> Path | None:
        return self.index.current()

    def require_current(self) -> Path:
        return self.index.require_current()

    def open(self, current: Path, previous: FaissCommit | None = None) -> FaissCommit:
        opened = {p.segment.name: p.segment for p in previous.parts} if previous else {}
        return load(current, opened)

    def open_current(self, previous: FaissCommit | None = None) -> FaissCommit:
        """The commit point `current` names; retried when a writer switches and cleans up meanwhile."""
        for _ in range(5):
            path = self.index.require_current()
            try:
                return self.open(path, previous)
            except FileNotFoundError:
                if self.index.current() == path:
                    raise
        return self.open(self.index.require_current(), previous)
