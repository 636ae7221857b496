"""Connecting to Milvus (a server URI or a Milvus Lite directory) with clear errors, and the store's collections."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from indexer.stores.spec import StoreSpec

log = logging.getLogger("jsearch.milvus")

TIMEOUT = 10.0  # seconds to wait for a Milvus server before giving up
TEXT_MAX = 65535  # Milvus's longest VARCHAR, in bytes
PIECE = 20000  # characters of article text per array element (3 bytes each at most)
DUMMY_DIM = 2  # meta, article and term rows carry a tiny vector: every Milvus collection needs one


class MilvusMissing(UserError):
    """The Milvus extra is not installed."""

    status, code, field = 503, "milvus_missing", "store"

    def __init__(self) -> None:
        super().__init__(
            "Milvus を使うには pymilvus と milvus-lite が必要です: pip install 'jichitai-search[milvus]'",
            "the Milvus store needs pymilvus and milvus-lite: pip install 'jichitai-search[milvus]'",
        )


class MilvusUnavailable(UserError):
    """Milvus cannot be reached, refused the credentials, or the Lite directory is in use or unusable."""

    status, code, field = 503, "milvus_unavailable", "store"

    def __init__(self, store: StoreSpec, ja: str, en: str) -> None:
        super().__init__(
            f"Milvus（{store.uri}）に接続できません: {ja}",
            f"cannot use Milvus at {store.uri}: {en}",
        )


class NoStore(MilvusUnavailable):
    """The Milvus store holds no index yet."""

    code = "no_index"

    def __init__(self, store: StoreSpec) -> None:
        super().__init__(
            store,
            "索引がまだありません。jsearch index --store で作ってください",
            "it holds no index yet; build one with `jsearch index --store …`",
        )


class StoreMismatch(UserError):
    """The collections were built by another model, dimension or product."""

    status, code, field = 409, "store_mismatch", "store"


@dataclass(frozen=True)
class Names:
    """The collections of one store: head and statistics, articles, and the stems of the passage and term-count
    collections (a rebuild writes `<stem>_<commit>` afresh; the head names the live ones)."""

    meta: str
    articles: str
    chunks: str
    terms: str


def names(store: StoreSpec) -> Names:
    p = store.collection
    return Names(f"{p}_meta", f"{p}_articles", f"{p}_chunks", f"{p}_terms")


class _QuietIterator(logging.Filter):
    """Milvus Lite has no MVCC timestamp: pymilvus warns once per page read; the warning says nothing to a user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


def connect(store: StoreSpec):
    """A MilvusClient for the store; every failure to reach it is a MilvusUnavailable in both languages."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusMissing() from None
    quiet = logging.getLogger("pymilvus.client.iterator.query_iterator")
    if not any(isinstance(f, _QuietIterator) for f in quiet.filters):
        quiet.addFilter(_QuietIterator())
    if store.is_lite:
        _check_lite_path(store)
    try:
        with _quiet_lite():
            client = MilvusClient(uri=store.uri, token=store.token, timeout=TIMEOUT)
        n = names(store)
        for name in (n.meta, n.articles):  # collections start released after Milvus restarts
            if client.has_collection(name):
                client.load_collection(name)
        return client
    except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds; each becomes one clear refusal
        raise _unavailable(store, exc) from exc


def _check_lite_path(store: StoreSpec) -> None:
    path = Path(store.uri).expanduser()
    if path.exists() and not path.is_dir():
        raise MilvusUnavailable(
            store,
            "Milvus Lite のパスがフォルダではありません",
            "the Milvus Lite path is not a directory",
        )
    if not path.parent.is_dir():
        raise MilvusUnavailable(
            store,
            f"親フォルダ {path.parent} がありません",
            f"its parent folder {path.parent} does not exist",
        )


@contextmanager
def _quiet_lite():
    """milvus-lite logs a traceback when it cannot open a directory; the refusal that follows says why."""
    lite = logging.getLogger("milvus_lite.server_manager")
    level = lite.level
    lite.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        lite.setLevel(level)


def _lite_locked(store: StoreSpec) -> bool:
    """Whether another process holds the Milvus Lite directory's lock (milvus-lite only logs why it failed)."""
    import fcntl
    import os

    try:
        fd = os.open(Path(store.uri).expanduser() / "LOCK", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _unavailable(store: StoreSpec, exc: BaseException) -> MilvusUnavailable:
    text = str(exc)
    lowered = text.lower()
    if "lock" in lowered or (store.is_lite and _lite_locked(store)):
        return MilvusUnavailable(
            store,
            "Milvus Lite のデータは別のプロセスが使っています（Lite は 1 プロセスずつ）。"
            "そのプロセスを止めるか、milvus-lite server で共有してください",
            "another process is using this Milvus Lite directory (Lite allows one process); stop it "
            "or share the directory through `milvus-lite server`",
        )
    if any(
        word in lowered
        for word in ("auth", "credential", "password", "token", "permission", "denied")
    ):
        return MilvusUnavailable(
            store,
            "認証に失敗しました（JSEARCH_MILVUS_TOKEN を確かめてください）",
            "authentication failed (check JSEARCH_MILVUS_TOKEN)",
        )
    return MilvusUnavailable(
        store, f"応答がありません（{text[:200]}）", f"no answer ({text[:200]})"
    )


def guarded(store: StoreSpec, call, *args, **kwargs):
    """Run one client call; a lost connection becomes MilvusUnavailable (503), not a crash."""
    from pymilvus.exceptions import MilvusException

    try:
        return call(*args, **kwargs)
    except MilvusException as exc:
        raise _unavailable(store, exc) from exc


def create_collections(
    client, n: Names, dimension: int, dense_index: str, chunks_name: str, terms_name: str
) -> None:
    """The meta and articles collections where missing, and new passage and term collections; all loaded."""
    from pymilvus import DataType

    if not client.has_collection(n.meta):
        schema = _schema(client, "key", DataType.VARCHAR)
        schema.add_field("doc", DataType.JSON)
        _create(client, n.meta, schema)
    if not client.has_collection(n.articles):
        schema = _schema(client, "key", DataType.VARCHAR)
        for name in ("article_id", "title", "source", "published", "url", "path", "content_hash"):
            schema.add_field(name, DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("commit", DataType.INT64)
        schema.add_field("chunks", DataType.INT64)
        schema.add_field(
            "text",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            max_capacity=4096,
            max_length=TEXT_MAX,
        )
        schema.add_field("urls", DataType.JSON)
        _create(client, n.articles, schema)
    for name in (chunks_name, terms_name):  # left by a rebuild that never switched
        if client.has_collection(name):
            client.drop_collection(name)
    schema = _schema(client, "term", DataType.INT64)
    for name in (
        "df",
        "commit",
        "before",
    ):  # df as of `commit`; `before` it, for readers of an older head
        schema.add_field(name, DataType.INT64)
    _create(client, terms_name, schema)
    _create_chunks(client, chunks_name, dimension, dense_index)


def _schema(client, key: str, kind):
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(key, kind, is_primary=True, max_length=TEXT_MAX)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
    return schema


def _create(client, name: str, schema) -> None:
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=params)
    client.load_collection(name)


def _create_chunks(client, name: str, dimension: int, dense_index: str) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    for field in ("commit", "ord", "start", "end", "length"):
        schema.add_field(field, DataType.INT64)
    for field in (
        "id",
        "article_id",
        "text",
        "heading",
        "url",
        "embed_key",
        "title",
        "source",
        "published",
    ):
        schema.add_field(field, DataType.VARCHAR, max_length=TEXT_MAX)
    schema.add_field(
        "codes", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=1024, max_length=8
    )
    schema.add_field(
        "prefectures", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=64, max_length=32
    )
    schema.add_field("mentions", DataType.JSON)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    params = client.prepare_index_params()
    params.add_index(
        "dense",
        index_type=dense_index,
        metric_type="IP",
        params={"M": 16, "efConstruction": 200} if dense_index == "HNSW" else {},
    )
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=params)
    client.load_collection(name)


def dense_index_for(rows: int) -> str:
    """Exact search up to 200,000 passages; HNSW (graph, ~0.99 recall) beyond."""
    return "FLAT" if rows <= 200_000 else "HNSW"


def dummy() -> list[float]:
    return [0.0] * DUMMY_DIM
