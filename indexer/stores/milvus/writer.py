"""Writes to the Milvus store: the same plan as the FAISS store (changes.plan), rows under the next commit, then one
switch of the head (see head.py); the embedding and prepare caches stay in the local index directory."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from corpus.article import Article
from indexer.analysis import lexical
from indexer.analysis.chunker import CHUNKER_VERSION
from indexer.analysis.prepare import Prepared
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.stores.milvus import client as mc
from indexer.stores.milvus import head as mh
from indexer.stores.milvus import sparse
from indexer.stores.spec import StoreSpec
from indexer.write import changes
from indexer.write.changes import Ref
from indexer.write.lock import acquire, cache_dir
from indexer.write.pipeline import LOCAL, Pipeline, prepare_and_embed

BATCH = 512  # rows per insert
RETIRE_SECONDS = (
    30  # a replaced passage collection is dropped by a write this long after (readers may hold it)
)


def apply(
    store: StoreSpec,
    index_dir: Path,
    change: changes.Change,
    embedder: Embedder,
    gazetteer: Gazetteer | None = None,
    progress: bool = False,
    lock_timeout: float = 30,
    pipeline: Pipeline = LOCAL,
) -> changes.Report:
    """Make the change as one new commit of the store."""
    began = time.perf_counter()
    lock = acquire(index_dir, lock_timeout)
    try:
        client = mc.connect(store)
        return mc.guarded(
            store,
            _apply,
            client,
            store,
            cache_dir(index_dir),
            change,
            embedder,
            gazetteer or Gazetteer.load(),
            progress,
            pipeline,
            began,
        )
    finally:
        lock.release()


def _apply(
    client,
    store: StoreSpec,
    caches: Path,
    change: changes.Change,
    embedder: Embedder,
    gazetteer: Gazetteer,
    progress: bool,
    pipeline: Pipeline,
    began: float,
) -> changes.Report:
    n = mc.names(store)
    old = mh.read(client, n)
    if old is not None:
        mh.load(client, old)
        old = recover(client, n, old)
        if not change.replace_all:
            check_model(old, embedder)
    refs = live_refs(
        client, n, old, None if change.replace_all or change.prune_missing else _ids(change)
    )
    work = changes.plan(refs, change, old.articles if old else 0)
    if work.live_articles <= 0:
        raise changes.NoArticles()
    items, keys, matrix, embedded, prepared = prepare_and_embed(
        work.write, embedder, gazetteer, caches, progress, pipeline
    )
    head = _next_head(client, n, old, change, embedder, sum(len(i.passages) for i in items))
    gone = [] if change.replace_all else list(work.gone)
    removed = removed_rows(client, n, old, gone) if old and gone else []
    counts = [c for item in items for c in item.counts]
    lengths = [sum(c.values()) for c in counts]
    first = head.next_row
    head = head.but(
        rows=head.rows - len(removed) + len(counts),
        next_row=first + len(counts),
        length_sum=head.length_sum - sum(r["length"] for r in removed) + sum(lengths),
        articles=work.live_articles,
        sources=_sources(old, change),
    )
    _insert_articles(client, n, items, head.commit)
    _insert_chunks(client, head, items, keys, matrix, counts, lengths, first)
    _update_terms(
        client,
        head,
        old if old and head.floor != head.commit else None,
        sparse.term_deltas(counts, [r["sparse"].keys() for r in removed]),
    )
    mh.write(client, n, head.but(pending_commit=head.commit, pending_ids=gone))
    recover(client, n, head.but(pending_commit=head.commit, pending_ids=gone))
    for name in (head.chunks, head.terms, n.articles, n.meta):
        client.flush(
            name
        )  # sealed segments are indexed; Milvus Lite searched unsealed rows 5x slower (measured)
    return changes.Report(
        head.name,
        head.articles,
        head.rows,
        embedded,
        work.added,
        work.updated,
        work.removed,
        work.unchanged,
        round(time.perf_counter() - began, 3),
        head.dense_index.lower(),
        None,
        None,
        0,
        prepared,
    )


def _ids(change: changes.Change) -> list[str]:
    return [a.id for a in change.upsert] + list(change.remove)


def _sources(old: mh.Head | None, change: changes.Change) -> list[str]:
    kept = old.sources if old and not change.replace_all else []
    return sorted(set(change.sources) | set(kept))


def check_model(head: mh.Head, embedder: Embedder) -> None:
    """Refuse to mix vectors of another model, dimension or precision into the store."""
    info = embedder.info
    if (head.model, head.dimension, head.precision) != (info.name, info.dimension, info.precision):
        raise mc.StoreMismatch(
            f"Milvus のコレクションはモデル {head.model}（{head.dimension} 次元、{head.precision}）で作られています"
            f"（指定: {info.name}、{info.dimension} 次元、{info.precision}）。同じモデルを使うか、jsearch index --rebuild "
            "で作り直してください",
            f"the Milvus collections were built with {head.model} ({head.dimension} dimensions, {head.precision}), not "
            f"{info.name} ({info.dimension}, {info.precision}); use that model or rebuild with `jsearch index --rebuild`",
        )


def _next_head(
    client,
    n: mc.Names,
    old: mh.Head | None,
    change: changes.Change,
    embedder: Embedder,
    new_rows: int,
) -> mh.Head:
    """The head this write will switch to; a rebuild (or a first write) gets a fresh passage collection."""
    info = embedder.info
    number = (old.commit if old else 0) + 1
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if old is not None and not change.replace_all:
        return old.but(commit=number, created=now, pending_ids=[], pending_commit=0)
    index = mc.dense_index_for(new_rows)
    chunks, terms = f"{n.chunks}_{number}", f"{n.terms}_{number}"
    retired = (old.retired + [[old.chunks, time.time()], [old.terms, time.time()]]) if old else []
    mc.create_collections(client, n, info.dimension, index, chunks, terms)
    return mh.Head(
        number,
        number,
        chunks,
        terms,
        info.name,
        info.dimension,
        info.query_prompt,
        info.passage_prompt,
        info.engine,
        info.precision,
        CHUNKER_VERSION,
        lexical.TOKENIZER,
        index,
        now,
        next_row=old.next_row if old else 0,
        retired=retired,
        synonyms=old.synonyms if old else [],  # a rebuild keeps them
    )


def recover(client, n: mc.Names, head: mh.Head) -> mh.Head:
    """Finish what a write left: delete rows it hid, rows of a commit that never switched, and old collections."""
    newer = f"commit > {head.commit}"
    for name in (n.articles, head.chunks):  # term rows of such a commit are read through `before`
        client.delete(name, filter=newer)
    if head.floor > 1:
        client.delete(n.articles, filter=f"commit < {head.floor}")
    if head.pending_ids:
        hidden = f"article_id in {mh.literal(head.pending_ids)} and commit < {head.pending_commit}"
        client.delete(head.chunks, filter=hidden)
        client.delete(n.articles, filter=hidden)
    kept = [r for r in head.retired if time.time() - r[1] < RETIRE_SECONDS]
    for name, _ in (r for r in head.retired if r not in kept):
        client.drop_collection(name) if client.has_collection(name) else None
    if head.pending_ids or kept != head.retired:
        head = head.but(pending_ids=[], pending_commit=0, retired=kept)
        mh.write(client, n, head)
    return head


def live_refs(
    client, n: mc.Names, head: mh.Head | None, ids: Sequence[str] | None
) -> dict[str, Ref]:
    """The live articles among `ids` (all of them when None): what changes.plan compares against."""
    if head is None or (ids is not None and not ids):
        return {}
    expr = mh.visible(head) + (f" and article_id in {mh.literal(ids)}" if ids is not None else "")
    fields = ["article_id", "content_hash", "path", "chunks"]
    return {
        r["article_id"]: Ref("", r["content_hash"], r["path"], int(r["chunks"]))
        for r in query_all(client, n.articles, expr, fields)
    }


def removed_rows(client, n: mc.Names, head: mh.Head, ids: Sequence[str]) -> list[dict]:
    """The live passages of these articles, with what the statistics need (length, term ids)."""
    expr = mh.visible(head) + f" and article_id in {mh.literal(ids)}"
    return query_all(client, head.chunks, expr, ["row", "length", "sparse"])


def query_all(client, collection: str, expr: str, fields: list[str]) -> list[dict]:
    """Every row matching `expr`, read page by page (a single query is capped by Milvus)."""
    iterator = client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
    rows: list[dict] = []
    try:
        while page := iterator.next():
            rows += page
    finally:
        iterator.close()
    return rows


def _batches(rows: list[dict]) -> Iterable[list[dict]]:
    return (rows[i : i + BATCH] for i in range(0, len(rows), BATCH))


def _insert_articles(client, n: mc.Names, items: Sequence[Prepared], number: int) -> None:
    rows = [_article_row(item.article, len(item.passages), number) for item in items]
    for batch in _batches(rows):
        client.insert(n.articles, batch)


def _article_row(a: Article, chunks: int, number: int) -> dict:
    text = a.text or ""
    pieces = [text[i : i + mc.PIECE] for i in range(0, len(text), mc.PIECE)] or [""]
    return {
        "key": f"{a.id}@{number}",
        "article_id": a.id,
        "title": a.title,
        "source": a.source,
        "published": a.published or "",
        "url": a.url,
        "path": a.path,
        "content_hash": a.content_hash,
        "commit": number,
        "chunks": chunks,
        "text": pieces,
        "urls": list(a.urls),
        "v": mc.dummy(),
    }


def _insert_chunks(
    client,
    head: mh.Head,
    items: Sequence[Prepared],
    keys: Sequence[str],
    matrix: np.ndarray,
    counts: Sequence[Counter],
    lengths: Sequence[int],
    first_row: int,
) -> None:
    avg = head.avg_length
    rows, i = [], 0
    for item in items:
        a = item.article
        for p in item.passages:
            mentions: list[dict[str, Any]] = [
                {
                    "code": m.place.code,
                    "name": m.place.name,
                    "prefecture": m.place.prefecture,
                    "level": m.place.level,
                    "lat": m.place.lat,
                    "lon": m.place.lon,
                    "role": m.role,
                    "start": m.start,
                    "end": m.end,
                }
                for m in p.mentions
            ]
            rows.append(
                {
                    "row": first_row + i,
                    "commit": head.commit,
                    "ord": p.ord,
                    "start": p.chunk.start,
                    "end": p.chunk.end,
                    "length": lengths[i],
                    "id": p.id,
                    "article_id": a.id,
                    "text": p.chunk.text,
                    "heading": p.chunk.heading,
                    "url": p.url,
                    "embed_key": keys[i],
                    "title": a.title,
                    "source": a.source,
                    "published": a.published or "",
                    "codes": sorted({m["code"][:5] for m in mentions}),
                    "prefectures": sorted({m["prefecture"] for m in mentions if m["prefecture"]}),
                    "mentions": mentions,
                    "dense": matrix[i].tolist(),
                    "sparse": sparse.doc_vector(counts[i], lengths[i], avg) or {0: 0.0},
                }
            )
            i += 1
    for batch in _batches(rows):
        client.insert(head.chunks, batch)


def _update_terms(client, head: mh.Head, previous: mh.Head | None, deltas: Counter) -> None:
    """New document frequencies of the changed terms, under the new commit; the old value kept as `before`."""
    ids = list(deltas)
    rows = []
    for i in range(0, len(ids), BATCH * 4):
        part = ids[i : i + BATCH * 4]
        stored = (
            {
                r["term"]: r
                for r in client.get(
                    head.terms, ids=part, output_fields=["term", "df", "commit", "before"]
                )
            }
            if previous
            else {}
        )
        for term in part:
            # `stored` is read only when there is a previous head
            before = (
                mh.document_frequency(stored[term], previous)
                if previous is not None and term in stored
                else 0
            )
            rows.append(
                {
                    "term": term,
                    "df": before + int(deltas[term]),
                    "commit": head.commit,
                    "before": before,
                    "v": mc.dummy(),
                }
            )
    for batch in _batches(rows):
        client.upsert(head.terms, batch)


def live_ids(store: StoreSpec, ids: Sequence[str]) -> set[str]:
    """Which of the ids the store holds as live articles."""
    client = mc.connect(store)
    n = mc.names(store)
    head = mc.guarded(store, mh.read, client, n)
    return set(mc.guarded(store, live_refs, client, n, head, list(ids)))


def recorded_sources(store: StoreSpec) -> list[str]:
    """The source folders the store was built from."""
    client = mc.connect(store)
    head = mc.guarded(store, mh.read, client, mc.names(store))
    return head.sources if head else []


def set_synonyms(
    store: StoreSpec, index_dir: Path, groups: list[list[str]], lock_timeout: float = 30
) -> str:
    """Move the head to a new commit with the same rows and these own synonym groups; returns its name."""
    lock = acquire(index_dir, lock_timeout)
    try:
        client = mc.connect(store)
        n = mc.names(store)
        head = mc.guarded(store, mh.read, client, n)
        if head is None:
            raise mc.NoStore(store)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        moved = head.but(commit=head.commit + 1, created=now, synonyms=groups)
        mc.guarded(store, mh.write, client, n, moved)
        client.flush(n.meta)
        return moved.name
    finally:
        lock.release()
