"""A write to the FAISS store: prepare and embed only what changes into one new segment, and switch a new commit point in."""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from common.errors import UserError
from corpus.article import Article
from indexer.analysis import lexical
from indexer.analysis.chunker import CHUNKER_VERSION
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.stores import manifest
from indexer.stores.faiss import check, commit, layout, segment
from indexer.write.changes import Change, NoArticles, Report, _wanted, plan
from indexer.write.pipeline import LOCAL, Pipeline, prepare_and_embed


class IndexDamaged(UserError):
    """The served commit point's articles cannot be read and no older commit point is intact."""

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
    """The disk refused a write (full, over quota, I/O error); the served commit point is untouched."""

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
                synonyms=base.manifest.synonyms
                if base.manifest
                else [],  # a rebuild keeps them too
            ),
            entries,
        ),
    )
