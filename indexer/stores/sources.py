"""Where the engine finds the commit to serve: the FAISS index directory's `current`, or the Milvus store's head."""

from __future__ import annotations

from pathlib import Path

from indexer.stores.faiss.layout import IndexDir
from indexer.stores.faiss.reader import Generation, load
from indexer.stores.spec import StoreSpec


class FaissSource:
    """Commit points in an index directory; segments already open are shared by the next one."""

    def __init__(self, index_dir: Path) -> None:
        self.index = IndexDir(index_dir)

    def current(self) -> Path | None:
        return self.index.current()

    def require_current(self) -> Path:
        return self.index.require_current()

    def open(self, current: Path, previous: Generation | None) -> Generation:
        opened = {p.segment.name: p.segment for p in previous.parts} if previous else {}
        return load(current, opened)

    def open_current(self, previous: Generation | None = None) -> Generation:
        """The generation `current` names; retried when a writer switches and cleans up meanwhile."""
        for _ in range(5):
            path = self.index.require_current()
            try:
                return self.open(path, previous)
            except FileNotFoundError:
                if self.index.current() == path:
                    raise
        return self.open(self.index.require_current(), previous)


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
        from indexer.stores.milvus.reader import MilvusGeneration

        if previous is None or previous.head.chunks != head.chunks:
            mc.guarded(self.store, mh.load, self.client, head)
        return MilvusGeneration(self.store, self.client, mc.names(self.store), head)

    def open_current(self, previous=None):
        return self.open(self.require_current(), previous)


def source_for(index_dir: Path, store: StoreSpec | None):
    """The source the settings name: Milvus when the store says so, else the index directory."""
    return MilvusSource(store) if store is not None and store.is_milvus else FaissSource(index_dir)
