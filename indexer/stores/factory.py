"""The one place that maps a store setting to its backend: `open_store(spec, index_dir)`."""

from __future__ import annotations

from pathlib import Path

from indexer.stores.base import Store
from indexer.stores.spec import MILVUS, StoreSpec


def open_store(spec: StoreSpec | None, index_dir: Path) -> Store:
    """The store the settings name: FAISS in `index_dir` by default, Milvus (imported only then) when asked."""
    if spec is not None and spec.kind == MILVUS:
        from indexer.stores.milvus.store import MilvusStore

        return MilvusStore(spec, index_dir)
    from indexer.stores.faiss.store import FaissStore

    return FaissStore(index_dir)
