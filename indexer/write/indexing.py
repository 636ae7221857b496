"""Indexing as the command line and the server ask for it: sources, loading, the change, the summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from common.errors import UserError
from corpus.article import Article
from corpus.bundled import bundled_corpus_dir
from corpus.loaders import Loaded, LoadError, load_paths
from indexer.model.base import Embedder
from indexer.stores.base import Merged
from indexer.stores.factory import open_store
from indexer.stores.spec import StoreSpec
from indexer.write import changes
from indexer.write.pipeline import LOCAL, Pipeline

FAISS = StoreSpec()


def apply(
    index_dir: Path,
    change: changes.Change,
    embedder: Embedder,
    store: StoreSpec = FAISS,
    progress: bool = False,
    lock_timeout: float = 30,
    pipeline: Pipeline = LOCAL,
) -> changes.Report:
    """Make one change in the chosen store (the write path of every writer: CLI, API, reindex jobs, watch);
    the caches and the writer lock stay in `index_dir` whatever the store."""
    return open_store(store, index_dir).apply(
        change, embedder, progress=progress, lock_timeout=lock_timeout, pipeline=pipeline
    )


def merge_after(
    index_dir: Path, store: StoreSpec = FAISS, lock_timeout: float = 30
) -> Merged | None:
    """The merge a write may leave wanted (the tiered policy decides; a store that compacts itself does nothing):
    the command line runs it before exiting, the server's group writer in its background merger."""
    return open_store(store, index_dir).merge(lock_timeout=lock_timeout)


def recorded_sources(index_dir: Path, store: StoreSpec = FAISS) -> list[str]:
    """The source folders the index was built from."""
    return open_store(store, index_dir).recorded_sources()


def default_sources(index_dir: Path, paths: Sequence[Path], store: StoreSpec = FAISS) -> list[Path]:
    """The paths given; else the sources recorded in the index; else the bundled corpus."""
    if paths:
        return [Path(p) for p in paths]
    return [Path(p) for p in recorded_sources(index_dir, store)] or [bundled_corpus_dir()]


def load(paths: Sequence[Path]) -> Loaded:
    """Articles under the paths; a path that is missing or empty is an error of its own."""
    loaded = load_paths(paths)
    if not loaded.articles:
        first = loaded.errors[0] if loaded.errors else None
        raise (
            first
            if first and len(paths) == 1 and not Path(paths[0]).is_dir()
            else changes.NoArticles()
        )
    return loaded


def index_articles(
    index_dir: Path,
    articles: Sequence[Article],
    sources: Sequence[Path],
    embedder: Embedder,
    prune: bool = False,
    rebuild: bool = False,
    progress: bool = False,
    lock_timeout: float = 30,
    store: StoreSpec = FAISS,
    pipeline: Pipeline = LOCAL,
) -> changes.Report:
    """Upsert the articles as one new commit point."""
    change = reindex_change(articles, sources, prune, rebuild)
    return apply(index_dir, change, embedder, store, progress, lock_timeout, pipeline)


def reindex_change(
    articles: Sequence[Article], sources: Sequence[Path], prune: bool = False, rebuild: bool = False
) -> changes.Change:
    """The change that upserts the articles read from the sources (and prunes or rebuilds if asked)."""
    return changes.Change(
        upsert=tuple(articles),
        replace_all=rebuild,
        prune_missing=prune,
        sources=tuple(str(Path(s).resolve()) for s in sources),
    )


def summary(
    report: changes.Report,
    index_dir: Path,
    errors: Sequence[LoadError] = (),
    store: StoreSpec = FAISS,
) -> dict:
    """The `--json` summary of an indexing run."""
    return {
        "index_dir": str(index_dir),
        "store": store.describe(),
        "generation": report.generation,
        "articles": report.articles,
        "chunks": report.chunks,
        "embedded_chunks": report.embedded_chunks,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "seconds": report.seconds,
        "faiss_index": report.faiss_index,
        "repaired_from": report.repaired_from,
        "segment": report.segment,
        "segments": report.segments,
        "prepared_chunks": report.prepared_chunks,
        "errors": [{"path": e.path, "ja": e.ja, "en": e.en} for e in errors],
    }


def describe(summary: dict) -> str:
    """The same summary as two readable lines."""
    return (
        f"索引を更新しました: 記事 {summary['articles']} 件、文章 {summary['chunks']} 件"
        f"（新規埋め込み {summary['embedded_chunks']} 件、追加 {len(summary['added'])}・更新 "
        f"{len(summary['updated'])}・削除 {len(summary['removed'])}、{summary['seconds']:.1f} 秒）\n"
        f"Indexed {summary['articles']} articles, {summary['chunks']} passages into {summary['index_dir']} "
        f"({summary['generation']})."
    )


class UnknownArticle(UserError):
    """A remove asked for ids the index does not hold."""

    status, code, field = 404, "not_found", "id"

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(
            f"索引にない記事 ID です: {', '.join(ids)}（jsearch search --json で確認できます）",
            f"no article with id {', '.join(ids)} in the index (see jsearch search --json)",
        )


def add_files(
    index_dir: Path,
    paths: Sequence[Path],
    embedder: Embedder,
    lock_timeout: float = 30,
    store: StoreSpec = FAISS,
    pipeline: Pipeline = LOCAL,
) -> tuple[changes.Report, Loaded]:
    """Upsert the given files (or folders) without touching the recorded sources' other articles."""
    loaded = load(paths)
    return index_articles(
        index_dir,
        loaded.articles,
        paths,
        embedder,
        lock_timeout=lock_timeout,
        store=store,
        pipeline=pipeline,
    ), loaded


def live_ids(index_dir: Path, ids: Sequence[str], store: StoreSpec = FAISS) -> set[str]:
    """Which of the ids the served commit point holds as live articles."""
    return open_store(store, index_dir).live_ids(ids)


def remove_ids(
    index_dir: Path,
    ids: Sequence[str],
    embedder: Embedder,
    lock_timeout: float = 30,
    store: StoreSpec = FAISS,
) -> changes.Report:
    """Remove articles by id; an id the index does not hold refuses the whole request."""
    known = live_ids(index_dir, ids, store)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UnknownArticle(unknown)
    return apply(
        index_dir, changes.Change(remove=tuple(ids)), embedder, store, lock_timeout=lock_timeout
    )
