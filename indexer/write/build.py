"""A write: plan what changes, prepare and embed only that into one new segment, and switch a new commit point in."""

from __future__ import annotations

import errno
import hashlib
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from common.errors import UserError
from corpus.article import Article
from indexer.analysis import lexical
from indexer.analysis.chunker import CHUNKER_VERSION
from indexer.analysis.prepare import Passage, prepare
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.stores import manifest
from indexer.stores.faiss import check, commit, layout, segment
from indexer.write.embedcache import EmbeddingCache, embed_key
from indexer.write.preparecache import PrepareCache, prepare_key

CACHE_BLOCK = 256
PROGRESS_FROM = 512  # passages to embed before a progress bar is worth showing


class NoArticles(UserError):
    """Nothing to index: the result would be an empty index."""

    status, code = 409, "no_articles"

    def __init__(self) -> None:
        super().__init__("索引する記事がありません", "there are no articles to index")


class IndexDamaged(UserError):
    """The served generation's articles cannot be read and no older generation is intact."""

    status, code = 503, "index_damaged"

    def __init__(self, generation: str, cause: BaseException) -> None:
        super().__init__(
            f"索引 {generation} の記事を読めず、使える古い世代もありません（{cause}）。"
            "jsearch check で確かめ、jsearch index --rebuild で元のフォルダから作り直してください",
            f"the articles of generation {generation} cannot be read and no older generation is intact "
            f"({cause}); run `jsearch check`, then rebuild from the source folders with "
            "`jsearch index --rebuild`",
        )


class WriteFailed(UserError):
    """The disk refused a write (full, over quota, I/O error); the served generation is untouched."""

    status, code = 507, "write_failed"

    def __init__(self, cause: BaseException) -> None:
        full = (
            isinstance(cause, OSError)
            and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            or "full" in str(cause)
        )
        reason_ja = "ディスクの空きが足りません" if full else f"書き込みエラー: {cause}"
        reason_en = "the disk is full" if full else f"write error: {cause}"
        super().__init__(
            f"索引を書き込めませんでした（{reason_ja}）。提供中の索引はそのままです",
            f"the index could not be written ({reason_en}); the served index is unchanged",
        )
        if not full:
            self.status = 503


@dataclass(frozen=True)
class Change:
    """What a writer asks for: articles to add or replace, ids to remove, or a fresh start."""

    upsert: tuple[Article, ...] = ()
    remove: tuple[str, ...] = ()
    replace_all: bool = False
    prune_missing: bool = False
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """What a build did."""

    generation: str
    articles: int
    chunks: int
    embedded_chunks: int
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    seconds: float = 0.0
    faiss_index: str = "flat"
    repaired_from: str | None = (
        None  # the older generation built on when the served one was damaged
    )
    segment: str | None = None  # the segment this write added, if it added one
    segments: int = 0  # live segments after the write
    prepared_chunks: int = 0  # passages chunked and resolved afresh (the rest came from the cache)


@dataclass(frozen=True)
class Plan:
    """The articles to write into the new segment, the live ones to delete, and the counts to report."""

    write: tuple[Article, ...]
    gone: dict[str, commit.Ref]
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    live_articles: int


def _wanted(change: Change) -> list[str] | None:
    """The ids a write must look up; None (all) when it prunes or starts afresh."""
    if change.prune_missing or change.replace_all:
        return None
    return [a.id for a in change.upsert] + list(change.remove)


def plan(live: dict[str, commit.Ref], change: Change, total_live: int) -> Plan:
    """What the change does to the live articles (`live` holds at least every id the change names)."""
    upserts = {a.id: a for a in change.upsert}  # a batch naming an article twice keeps the last
    removed = [i for i in dict.fromkeys(change.remove) if i in live]
    if change.prune_missing:
        removed += [
            i for i, r in live.items() if r.path and not Path(r.path).exists() and i not in removed
        ]
    if change.replace_all:
        removed += [i for i in live if i not in upserts and i not in removed]
    added, updated, unchanged, write = [], [], 0, []
    for article in upserts.values():
        old = live.get(article.id)
        if old is None:
            added.append(article.id)
        elif article.id in removed or old.content_hash != article.content_hash:
            updated.append(article.id)
        else:
            unchanged += 1
            if not change.replace_all:
                continue
        write.append(article)
    gone = (
        dict(live)
        if change.replace_all
        else {i: live[i] for i in dict.fromkeys([*removed, *updated])}
    )
    return Plan(
        tuple(write), gone, added, updated, removed, unchanged, total_live - len(gone) + len(write)
    )


class Pipeline(Protocol):
    """Where passages are prepared and embedded: in this process (LocalPipeline) or spread out (indexer/ray_embed)."""

    def prepare(
        self, articles: Sequence[Article], embedder: Embedder, gazetteer: Gazetteer
    ) -> list[segment.Prepared]: ...

    def encode(
        self, pairs: Sequence[tuple[str, str]], embedder: Embedder
    ) -> Iterable[tuple[list[str], np.ndarray]]: ...


class LocalPipeline:
    """Prepare and embed in this process, a cache block at a time."""

    def prepare(
        self, articles: Sequence[Article], embedder: Embedder, gazetteer: Gazetteer
    ) -> list[segment.Prepared]:
        return [prepare_one(a, embedder, gazetteer) for a in articles]

    def encode(
        self, pairs: Sequence[tuple[str, str]], embedder: Embedder
    ) -> Iterable[tuple[list[str], np.ndarray]]:
        """(keys, vectors) for (cache key, text) pairs, block by block."""
        for i in range(0, len(pairs), CACHE_BLOCK):
            block = pairs[i : i + CACHE_BLOCK]
            yield [k for k, _ in block], embedder.encode_passages([t for _, t in block])


LOCAL = LocalPipeline()


def prepare_one(article: Article, embedder: Embedder, gazetteer: Gazetteer) -> segment.Prepared:
    """One article's passages and their lexical token counts."""
    info = embedder.info
    count = lambda texts: embedder.count_tokens([info.passage_prompt + t for t in texts])  # noqa: E731
    passages = tuple(prepare(article, gazetteer, count, info.max_tokens))
    return segment.Prepared(
        article, passages, tuple(lexical.counts(p.embed_text) for p in passages)
    )


def passage_keys(passages: Sequence[Passage], embedder: Embedder) -> list[str]:
    """The embedding-cache key of each passage (model, prompt, text)."""
    info = embedder.info
    return [embed_key(info.vectors, info.passage_prompt, p.embed_text) for p in passages]


def embed_passages(
    passages: Sequence[Passage],
    keys: list[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    progress: bool,
    pipeline: Pipeline = LOCAL,
) -> tuple[np.ndarray, int]:
    """Vectors for the passages, from the cache where it has them; returns them and how many were embedded."""
    info = embedder.info
    cached = cache.get_many(list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    text_of = {k: p.embed_text for k, p in zip(keys, passages)}
    with _progress(len(missing), progress) as bar:
        for block, fresh in pipeline.encode([(k, text_of[k]) for k in missing], embedder):
            cache.put_many(
                dict(zip(block, fresh))
            )  # saved as it goes: a build killed half-way keeps its work
            cached.update(zip(block, fresh))
            bar.update(len(block))
    matrix = (
        np.stack([cached[k] for k in keys]) if keys else np.zeros((0, info.dimension), np.float32)
    )
    return matrix.astype(np.float32), len(missing)


def _progress(total: int, wanted: bool):
    """The product's own progress bar, on standard error, only for work long enough to watch."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        disable=not wanted or total < PROGRESS_FROM,
        unit="passages",
        desc="埋め込み / embedding",
        leave=False,
    )


def code_version() -> str:
    """A digest of the modules that shape prepared passages: editing any of them invalidates the prepare cache."""
    from indexer.analysis import chunker, normalize
    from indexer.analysis import prepare as prepare_module
    from indexer.places import mentions as municipalities

    digest = hashlib.sha1()
    for module in (chunker, municipalities, normalize, prepare_module, lexical):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def prepare_versions(embedder: Embedder, gazetteer: Gazetteer) -> str:
    info = embedder.info
    return "|".join(
        (
            str(CHUNKER_VERSION),
            lexical.TOKENIZER,
            gazetteer.fingerprint,
            code_version(),
            info.name,
            info.passage_prompt,
            str(info.max_tokens),
        )
    )


def prepare_all(
    articles: Sequence[Article],
    embedder: Embedder,
    gazetteer: Gazetteer,
    cache_dir: Path,
    pipeline: Pipeline = LOCAL,
) -> tuple[list[segment.Prepared], int]:
    """Each article's passages and token counts, from the prepare cache where it has them; returns them and how
    many passages were prepared afresh."""
    versions = prepare_versions(embedder, gazetteer)
    keys = [prepare_key(a, versions) for a in articles]
    cache = PrepareCache(cache_dir / "prepared.sqlite")
    try:
        found = cache.get_many(keys)
        todo = {k: a for k, a in zip(keys, articles) if k not in found}
        fresh = dict(zip(todo, pipeline.prepare(list(todo.values()), embedder, gazetteer)))
        cache.put_many(fresh)
    finally:
        cache.close()
    items = [fresh.get(k) or _with_article(found[k], a) for k, a in zip(keys, articles)]
    return items, sum(len(p.passages) for p in fresh.values())


def _with_article(item: segment.Prepared, article: Article) -> segment.Prepared:
    """A cached record with this run's article (source, date and path are not part of the key)."""
    return segment.Prepared(article, item.passages, item.counts)


def apply(
    index_dir: Path,
    change: Change,
    embedder: Embedder,
    gazetteer: Gazetteer | None = None,
    progress: bool = False,
    lock_timeout: float = 60,
    pipeline: Pipeline = LOCAL,
) -> Report:
    """Make the change as one new segment and commit point; the served one stays untouched until the switch."""
    began = time.perf_counter()
    index = layout.IndexDir(index_dir)
    lock = layout.acquire(index, lock_timeout)
    try:
        layout.clean(index)
        return _apply_locked(
            index, change, embedder, gazetteer or Gazetteer.load(), progress, began, pipeline
        )
    except (OSError, sqlite3.DatabaseError) as exc:
        raise WriteFailed(exc) from exc
    finally:
        lock.release()


class SegmentLost(sqlite3.DatabaseError):
    """A segment whose articles cannot be read back: the commit point listing it cannot be built on."""


def _read(index: layout.IndexDir, path: Path, ids: list[str] | None) -> commit.Base:
    try:
        info = manifest.read(path)
    except manifest.OldFormat:
        legacy = commit.stored_articles(path)
        refs = {a.id: commit.Ref("", a.content_hash, a.path, 0) for a in legacy.values()}
        return commit.Base(None, (), refs, legacy)
    entries = commit.entries_of(info)
    marks = check.marked(index)
    damaged = [
        e for e in entries if e.name in marks or check.looks_damaged(index.segments / e.name)
    ]
    carry: dict[str, Article] = {}
    for entry in damaged:  # rewritten into the new segment from their own SQLite rows
        if not check.articles_readable(index.segments / entry.name):
            raise SegmentLost(f"segment {entry.name} cannot be read")
        gone = set(entry.deleted)
        carry.update(
            (i, a)
            for i, a in commit.stored_articles(index.segments / entry.name).items()
            if i not in gone
        )
    refs = commit.lookup(index, entries, ids if not carry else None)
    healthy = tuple(e for e in entries if e not in damaged)
    return commit.Base(info, healthy, refs, carry or None)


def base_generation(
    index: layout.IndexDir, fresh: bool, ids: list[str] | None = None
) -> commit.Base:
    """The commit point to build on and the live articles among `ids`; a served commit point whose files cannot
    be read is replaced by the newest older one that can be."""
    current = index.current()
    if current is None:
        return commit.Base(None, (), {})
    try:
        return _read(index, current, ids)
    except (sqlite3.DatabaseError, OSError, manifest.IndexMismatch) as damage:
        if fresh:
            return commit.Base(None, (), {})
        older = sorted(
            (p for p in index.generations.glob("g*") if p.name < current.name), reverse=True
        )
        for path in older:
            if not check.verify(path, index):
                base = _read(index, path, ids)
                return commit.Base(base.manifest, base.entries, base.refs, base.carry, path.name)
        raise IndexDamaged(current.name, damage) from damage


def _apply_locked(
    index: layout.IndexDir,
    change: Change,
    embedder: Embedder,
    gazetteer: Gazetteer,
    progress: bool,
    began: float,
    pipeline: Pipeline = LOCAL,
) -> Report:
    base = base_generation(index, change.replace_all, _wanted(change))
    if base.manifest and not change.replace_all:
        manifest.check_model(base.manifest, embedder.info)
    total = sum(e.live_articles for e in base.entries) + len(base.carry or {})
    work = plan(base.refs, change, total)
    if work.live_articles <= 0:
        raise NoArticles()
    write, entries = list(work.write), commit.without(base.entries, work.gone)
    if (
        base.carry and not change.replace_all
    ):  # an old-format index or damaged segments: rewritten here
        write = [a for i, a in base.carry.items() if i not in work.gone] + write
    if change.replace_all:
        entries = []
    new, embedded, prepared = _write_segment(index, write, embedder, gazetteer, progress, pipeline)
    entries += [new] if new else []
    name = _commit(index, base, change, embedder, entries)
    check.mark(index, [], set())  # whatever `jsearch check` marked is no longer listed
    layout.clean(index)
    return Report(
        name,
        sum(e.live_articles for e in entries),
        sum(e.live_rows for e in entries),
        embedded,
        work.added,
        work.updated,
        work.removed,
        work.unchanged,
        round(time.perf_counter() - began, 3),
        commit.largest_kind(entries),
        base.repaired_from,
        new.name if new else None,
        len(entries),
        prepared,
    )


def _write_segment(
    index: layout.IndexDir,
    articles: Sequence[Article],
    embedder: Embedder,
    gazetteer: Gazetteer,
    progress: bool,
    pipeline: Pipeline,
) -> tuple[commit.Entry | None, int, int]:
    """Prepare, embed and write the articles as a new segment; returns its entry, embedded and prepared counts."""
    if not articles:
        return None, 0, 0
    items, keys, matrix, embedded, prepared = prepare_and_embed(
        articles, embedder, gazetteer, index.cache, progress, pipeline
    )
    building = layout.Building(index.segments)
    try:
        info = segment.write(building.path, items, matrix, keys)
        name = layout.segment_name(index.segments)
        building.finish(index.segments / name)
    except BaseException:
        building.discard()
        raise
    return commit.Entry(name, info["rows"], info["articles"], info["kind"]), embedded, prepared


def prepare_and_embed(
    articles: Sequence[Article],
    embedder: Embedder,
    gazetteer: Gazetteer,
    cache_dir: Path,
    progress: bool,
    pipeline: Pipeline = LOCAL,
) -> tuple[list[segment.Prepared], list[str], np.ndarray, int, int]:
    """Prepared articles, their passages' cache keys and vectors (row order), and the embedded/prepared counts;
    both caches under `cache_dir` are used and filled, so a killed run resumes where it stopped."""
    items, prepared = prepare_all(articles, embedder, gazetteer, cache_dir, pipeline)
    flat = [p for item in items for p in item.passages]
    keys = passage_keys(flat, embedder)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    try:
        matrix, embedded = embed_passages(flat, keys, embedder, cache, progress, pipeline)
    finally:
        cache.close()
    return items, keys, matrix, embedded, prepared


def _commit(
    index: layout.IndexDir,
    base: commit.Base,
    change: Change,
    embedder: Embedder,
    entries: Sequence[commit.Entry],
) -> str:
    info = embedder.info
    kept = base.manifest.sources if base.manifest and not change.replace_all else []
    return commit.publish(
        index,
        commit.listing(
            manifest.Manifest(
                info.name,
                info.dimension,
                info.query_prompt,
                info.passage_prompt,
                CHUNKER_VERSION,
                lexical.TOKENIZER,
                "flat",
                0,
                0,
                "",
                "",
                sources=sorted(set(change.sources) | set(kept)),
                engine=info.engine,
                precision=info.precision,
            ),
            entries,
        ),
    )
