"""`jsearch check` for the Milvus store: the head names a loaded passage collection and its counts add up."""

from __future__ import annotations

from indexer.stores.milvus import client as mc
from indexer.stores.milvus import head as mh
from indexer.stores.spec import StoreSpec


def report(store: StoreSpec) -> dict:
    """The same shape as the FAISS store's check (faiss/check.py): ok, generation, problems (file, ja, en), repair_from."""
    client = mc.connect(store)
    n = mc.names(store)
    head = mc.guarded(store, mh.read, client, n)
    if head is None:
        raise mc.NoStore(store)
    problems = []
    if not client.has_collection(head.chunks):
        problems.append(
            {
                "file": head.chunks,
                "ja": "文章のコレクションがありません",
                "en": "the passage collection is missing",
            }
        )
    else:
        for name, want, what in (
            (head.chunks, head.rows, "passages"),
            (n.articles, head.articles, "articles"),
        ):
            mc.guarded(store, client.load_collection, name)
            got = mc.guarded(
                store, client.query, name, filter=mh.visible(head), output_fields=["count(*)"]
            )
            count = int(got[0]["count(*)"]) if got else 0
            if count != want:
                problems.append(
                    {
                        "file": name,
                        "ja": f"{what} の数が合いません（{count} 件、記録は {want} 件）",
                        "en": f"{count} {what} found, the head records {want}",
                    }
                )
    return {
        "ok": not problems,
        "generation": head.name,
        "problems": problems,
        "repair_from": None,
        "store": store.describe(),
    }
