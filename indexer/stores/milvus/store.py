"""The Milvus store behind the store protocol: collections in a Milvus server or a Milvus Lite directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from common.errors import UserError
from indexer.model.base import Embedder
from indexer.stores.base import Merged
from indexer.stores.spec import StoreSpec
from indexer.write.changes import Change, Report
from indexer.write.pipeline import LOCAL, Pipeline


class NoSnapshot(UserError):
    """Snapshots are the FAISS store's; a Milvus deployment is backed up with Milvus's own tool."""

    status, code, field = 422, "not_supported", "store"

    def __init__(self, spec: StoreSpec) -> None:
        super().__init__(
            f"{spec.describe()} には jsearch snapshot / restore を使えません。Milvus のバックアップは milvus-backup"
            "（Milvus 公式のバックアップツール）で取り、索引ディレクトリの埋め込みキャッシュは通常のファイルとして"
            "複製してください",
            f"jsearch snapshot / restore do not apply to {spec.describe()}: back Milvus up with milvus-backup "
            "(Milvus's own backup tool) and copy the index directory's embedding caches as plain files",
        )


class MilvusStore:
    """Rows under commits switched by one head upsert; Milvus compacts its own segments (`merges` is False).
    The writer lock and the prepare and embedding caches stay in the local `index_dir`."""

    merges = False

    def __init__(self, spec: StoreSpec, index_dir: Path) -> None:
        self.spec, self.index_dir = spec, Path(index_dir)

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
        from indexer.stores.milvus import writer

        return writer.apply(
            self.spec,
            self.index_dir,
            change,
            embedder,
            progress=progress,
            lock_timeout=lock_timeout,
            pipeline=pipeline or LOCAL,
        )

    def recorded_sources(self) -> list[str]:
        from indexer.stores.milvus import writer

        return writer.recorded_sources(self.spec)

    def live_ids(self, ids: Sequence[str]) -> set[str]:
        from indexer.stores.milvus import writer

        return writer.live_ids(self.spec, ids)

    def require_index(self) -> None:
        MilvusSource(self.spec).require_current()  # fails before the model takes seconds to load

    def precision(self) -> str | None:
        """The precision of the vectors the head's collections hold; None when there is no store yet."""
        head = self.commits().current()
        return head.precision if head is not None else None

    def synonyms(self) -> list[list[str]]:
        head = self.commits().current()
        return [list(g) for g in head.synonyms] if head is not None else []

    def set_synonyms(self, groups: list[list[str]], lock_timeout: float = 30) -> str:
        from indexer.stores.milvus import writer

        return writer.set_synonyms(self.spec, self.index_dir, groups, lock_timeout)

    def check(self) -> dict:
        from indexer.stores.milvus import check

        return check.report(self.spec)

    def merge(self, max_segments: int | None = None, lock_timeout: float = 60) -> Merged | None:
        return None  # Milvus compacts its own segments

    def commits(self) -> MilvusSource:
        return MilvusSource(self.spec)

    def snapshot(self, dest: Path) -> dict:
        raise NoSnapshot(self.spec)

    def restore(self, src: Path, lock_timeout: float = 30) -> dict:
        raise NoSnapshot(self.spec)

    def scratch(self, folder: Path) -> StoreSpec:
        """A throw-away store of the same kind: a Lite file in the folder, or collections under another prefix."""
        if self.spec.is_lite:
            return replace(self.spec, uri=str(folder / "eval.db"))
        return replace(self.spec, collection=f"{self.spec.collection}_eval")


class MilvusSource:
    """The heads of a Milvus store, through one client (Milvus Lite allows one process per directory)."""

    def __init__(self, store: StoreSpec, client=None) -> None:
        from indexer.stores.milvus import client as mc

        self.store = store
        self.client = client or mc.connect(store)

    def current(self):
        from indexer.stores.milvus import client as mc
        from indexer.stores.milvus import head as mh

        return mc.guarded(self.store, mh.read, self.client, mc.names(self.store))

    def require_current(self):
        from indexer.stores.milvus import client as mc

        head = self.current()
        if head is None:
            raise mc.NoStore(self.store)
        return head

    def open(self, head, previous=None):
        from indexer.stores.milvus import client as mc
        from indexer.stores.milvus import head as mh
        from indexer.stores.milvus.reader import MilvusCommit

        if previous is None or previous.head.chunks != head.chunks:
            mc.guarded(self.store, mh.load, self.client, head)
        return MilvusCommit(self.store, self.client, mc.names(self.store), head)

    def open_current(self, previous=None):
        return self.open(self.require_current(), previous)
