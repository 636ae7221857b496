"""Which store holds the index: `faiss` (segments inside the index directory) or `milvus:<uri>` (a Milvus server or
a Milvus Lite directory); parsed from JSEARCH_STORE or `--store`."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError

FAISS = "faiss"
MILVUS = "milvus"
DEFAULT_COLLECTION = "jsearch"


class BadStore(UserError):
    """A store setting that names no known store."""

    status, code, field = 422, "bad_store", "store"

    def __init__(self, given: str, why_ja: str, why_en: str) -> None:
        super().__init__(
            f"索引の保存先（JSEARCH_STORE / --store）が正しくありません: {given!r}（{why_ja}）。"
            "faiss か milvus:<URI>（例: milvus:/var/lib/jsearch/milvus.db、milvus:http://host:19530）",
            f"the index store (JSEARCH_STORE / --store) is invalid: {given!r} ({why_en}); use faiss or "
            "milvus:<uri> (e.g. milvus:/var/lib/jsearch/milvus.db or milvus:http://host:19530)",
        )


@dataclass(frozen=True)
class StoreSpec:
    """The store to write to and search: its kind, and for Milvus the URI, token and collection prefix."""

    kind: str = FAISS
    uri: str = ""
    token: str = ""
    collection: str = DEFAULT_COLLECTION

    @property
    def is_milvus(self) -> bool:
        return self.kind == MILVUS

    @property
    def is_lite(self) -> bool:
        """A local path: Milvus Lite, in this process."""
        return self.is_milvus and not self.uri.startswith(
            ("http://", "https://", "tcp://", "unix:")
        )

    def describe(self) -> str:
        return FAISS if not self.is_milvus else f"{MILVUS}:{self.uri}"


def parse(text: str | None, token: str | None = None, collection: str | None = None) -> StoreSpec:
    """`faiss`, empty (faiss) or `milvus:<uri>`; anything else is refused with what is wrong."""
    given = (text or "").strip()
    if given in ("", FAISS):
        return StoreSpec()
    kind, _, uri = given.partition(":")
    if kind != MILVUS:
        raise BadStore(given, "不明な種類です", "unknown kind")
    if not uri.strip():
        raise BadStore(given, "URI がありません", "the URI is missing")
    name = collection or DEFAULT_COLLECTION
    if not name.replace("_", "").isalnum() or not name.isascii() or name[0].isdigit():
        raise BadStore(
            given,
            f"コレクション名 {name!r} は英数字と _ だけです",
            f"collection name {name!r} must be ASCII letters, digits and _",
        )
    spec = StoreSpec(MILVUS, uri.strip(), token or "", name)
    if spec.is_lite and not spec.uri.endswith(".db"):
        raise BadStore(
            given, "Milvus Lite のパスは .db で終わります", "a Milvus Lite path ends with .db"
        )
    return spec
