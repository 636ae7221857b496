"""Build the next index generation from a set of articles and switch it in atomically."""
from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from common.errors import UserError
from corpus.article import Article
from indexer import check, layout, lexical, manifest, store, vectors
from indexer.chunker import CHUNKER_VERSION
from indexer.embedcache import EmbeddingCache, embed_key
from indexer.embedder import Embedder
from indexer.gazetteer import Gazetteer
from indexer.prepare import Passage, prepare


CACHE_BLOCK = 512


class NoArticles(UserError):
    """Nothing to index: the result would be an empty index."""

    status, code = 409, "no_articles"

    def __init__(self) -> None:
        super().__init__("索引する記事がありません", "there are no articles to index")


class IndexDamaged(UserError):
    """The served generation's articles cannot be read and no older generation is intact."""

    status, code = 503, "index_damaged"

    def __init__(self, generation: str, cause: BaseException) -> None:
        super().__init__(f"索引 {generation} の記事を読めず、使える古い世代もありません（{cause}）。"
                         "jsearch check で確かめ、jsearch index --rebuild で元のフォルダから作り直してください",
                         f"the articles of generation {generation} cannot be read and no older generation is intact "
                         f"({cause}); run `jsearch check`, then rebuild from the source folders with "
                         "`jsearch index --rebuild`")


class WriteFailed(UserError):
    """The disk refused a write (full, over quota, I/O error); the served generation is untouched."""

    status, code = 507, "write_failed"

    def __init__(self, cause: BaseException) -> None:
        full = isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or \
            "full" in str(cause)
        reason_ja = "ディスクの空きが足りません" if full else f"書き込みエラー: {cause}"
        reason_en = "the disk is full" if full else f"write error: {cause}"
        super().__init__(f"索引を書き込めませんでした（{reason_ja}）。提供中の索引はそのままです",
                         f"the index could not be written ({reason_en}); the served index is unchanged")
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
    repaired_from: str | None = None  # the older generation built on when the served one was damaged


def read_articles(generation: Path) -> dict[str, Article]:
    """All articles stored in a generation, by id."""
    conn = store.open_readonly(generation)
    try:
        rows = conn.execute("SELECT id, title, text, source, published, url, path, urls FROM articles").fetchall()
    finally:
        conn.close()
    return {r["id"]: Article(r["id"], r["title"], r["text"], r["source"], r["published"], r["url"], r["path"],
                             tuple(json.loads(r["urls"]))) for r in rows}


def plan(existing: dict[str, Article], change: Change) -> tuple[dict[str, Article], Report]:
    """The article set of the next generation, and what differs from the current one."""
    base = {} if change.replace_all else dict(existing)
    removed = [i for i in change.remove if i in base]
    if change.prune_missing:
        removed += [i for i, a in base.items() if a.path and not Path(a.path).exists() and i not in removed]
    for article_id in removed:
        del base[article_id]
    added, updated = [], []
    for article in change.upsert:
        old = existing.get(article.id)
        (added if old is None else updated if old.content_hash != article.content_hash else []).append(article.id)
        base[article.id] = article
    if change.replace_all:
        removed += [i for i in existing if i not in base]
    unchanged = len(base) - len(added) - len(updated)
    return base, Report("", len(base), 0, 0, added, updated, removed, unchanged)


def _blocks(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[i:i + size] for i in range(0, len(items), size))


def passage_keys(passages: Sequence[Passage], embedder: Embedder) -> list[str]:
    """The embedding-cache key of each passage (model, prompt, text)."""
    info = embedder.info
    return [embed_key(info.name, info.passage_prompt, p.embed_text) for p in passages]


def embed_passages(passages: Sequence[Passage], keys: list[str], embedder: Embedder, cache: EmbeddingCache,
                   progress: bool) -> tuple[np.ndarray, int]:
    """Vectors for the passages, from the cache where it has them; returns them and how many were embedded."""
    info = embedder.info
    cached = cache.get_many(list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    text_of = {k: p.embed_text for k, p in zip(keys, passages)}
    for block in _blocks(missing, CACHE_BLOCK):
        fresh = embedder.encode_passages([text_of[k] for k in block], show_progress=progress)
        cache.put_many(dict(zip(block, fresh)))  # saved as it goes: a build killed half-way keeps its work
        cached.update(zip(block, fresh))
    matrix = np.stack([cached[k] for k in keys]) if keys else np.zeros((0, info.dimension), np.float32)
    return matrix.astype(np.float32), len(missing)


def write_generation(directory: Path, articles: Iterable[Article], passages: dict[str, list[Passage]],
                     matrix: np.ndarray, embed_keys: list[str]) -> str:
    """Write SQLite, FAISS and lexical files of a generation; returns the FAISS index kind."""
    conn = store.create(directory)
    row = 0
    with conn:
        for article in articles:
            store.insert_article(conn, article, len(passages[article.id]))
            rows = []
            for p in passages[article.id]:
                rows.append(store.ChunkRow(row, p.id, article.id, p.ord, p.chunk.start, p.chunk.end, p.chunk.text,
                                           p.chunk.heading, p.url, embed_keys[row]))
                store.insert_mentions(conn, [store.MentionRow(row, m.place.code, m.place.name, m.place.prefecture,
                                                              m.place.level, m.place.lat, m.place.lon, m.role,
                                                              m.start, m.end) for m in p.mentions])
                row += 1
            store.insert_chunks(conn, rows)
    conn.close()
    kind = vectors.kind_for(len(matrix))
    vectors.save(vectors.build(matrix, kind), directory)
    texts = [p.embed_text for a in passages.values() for p in a]
    lexical.build(texts, directory / "lexical")
    return kind


def next_generation_name(index: layout.IndexDir) -> str:
    """Generation names sort in build order: g000001, g000002, …"""
    names = [p.name for p in index.generations.glob("g*")] if index.generations.is_dir() else []
    return f"g{max((int(n[1:7]) for n in names if n[1:7].isdigit()), default=0) + 1:06d}"


def apply(index_dir: Path, change: Change, embedder: Embedder, gazetteer: Gazetteer | None = None,
          progress: bool = False, lock_timeout: float = 60) -> Report:
    """Make the change as one new generation; the served one stays untouched until the switch."""
    began = time.perf_counter()
    index = layout.IndexDir(index_dir)
    lock = layout.acquire(index, lock_timeout)
    try:
        layout.clean(index)
        return _apply_locked(index, change, embedder, gazetteer or Gazetteer.load(), progress, began)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise WriteFailed(exc) from exc
    finally:
        lock.release()


def _readable(path: Path) -> tuple[manifest.Manifest, dict[str, Article]]:
    return manifest.read(path), read_articles(path)


def base_generation(index: layout.IndexDir, fresh: bool) -> tuple[manifest.Manifest | None, dict[str, Article],
                                                                   str | None]:
    """The manifest and articles to build on, and the generation they came from when it is not the served
    one: a served generation whose files cannot be read is replaced by the newest older one that can."""
    current = index.current()
    if current is None:
        return None, {}, None
    try:
        return (*_readable(current), None)
    except (sqlite3.DatabaseError, OSError, manifest.IndexMismatch) as damage:
        if fresh:
            return None, {}, None
        older = sorted((p for p in index.generations.glob("g*") if p.name < current.name), reverse=True)
        for path in older:
            if not check.verify(path):
                return (*_readable(path), path.name)
        raise IndexDamaged(current.name, damage) from damage


def _apply_locked(index: layout.IndexDir, change: Change, embedder: Embedder, gazetteer: Gazetteer,
                  progress: bool, began: float) -> Report:
    old_manifest, existing, repaired_from = base_generation(index, change.replace_all)
    if old_manifest and not change.replace_all:
        manifest.check_model(old_manifest, embedder.info.name)
    articles, report = plan(existing, change)
    if not articles:
        raise NoArticles()
    tmp = layout.new_generation(index)
    try:
        kind, chunks, embedded = _fill(tmp, index, articles, embedder, gazetteer, progress)
        name = next_generation_name(index)
        sources = set(change.sources) | set(old_manifest.sources if old_manifest and not change.replace_all else [])
        info = embedder.info
        manifest.write(manifest.Manifest(
            info.name, info.dimension, info.query_prompt, info.passage_prompt, CHUNKER_VERSION, lexical.TOKENIZER,
            kind, len(articles), chunks, datetime.now(timezone.utc).isoformat(timespec="seconds"), name,
            sources=sorted(sources), files=check.file_digests(tmp)), tmp)
        layout.mark_readable(tmp)
        layout.publish(index, tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    layout.clean(index)
    return Report(name, len(articles), chunks, embedded, report.added, report.updated, report.removed,
                  report.unchanged, round(time.perf_counter() - began, 3), kind, repaired_from)


def _fill(tmp: Path, index: layout.IndexDir, articles: dict[str, Article], embedder: Embedder,
          gazetteer: Gazetteer, progress: bool) -> tuple[str, int, int]:
    """Chunk, embed (through the cache) and write every file of a generation; returns kind, chunks, embedded."""
    info = embedder.info
    count = lambda texts: embedder.count_tokens([info.passage_prompt + t for t in texts])  # noqa: E731
    passages = {a.id: prepare(a, gazetteer, count, info.max_tokens) for a in articles.values()}
    flat = [p for ps in passages.values() for p in ps]
    keys = passage_keys(flat, embedder)
    cache = EmbeddingCache(index.cache / "embeddings.sqlite")
    try:
        matrix, embedded = embed_passages(flat, keys, embedder, cache, progress)
    finally:
        cache.close()
    return write_generation(tmp, articles.values(), passages, matrix, keys), len(flat), embedded
