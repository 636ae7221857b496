"""Crawl passes as the command line and the server run them: the given URLs or the registered sources that are
due, into the index through the one write path (or into a transfer bundle), then remembered in the crawl state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from api.settings import Settings
from corpus.crawl import bundle, sources, state
from corpus.crawl.config import CrawlConfig
from corpus.crawl.run import Pass, Start, crawl, remember, summary
from indexer.write import changes

Write = Callable[[changes.Change], changes.Report]
Live = Callable[[Sequence[str]], set[str]]


def config(settings: Settings, allow_hosts: Sequence[str] = ()) -> CrawlConfig:
    """The crawler's limits from the JSEARCH_CRAWL_* settings, plus the hosts a redirect or feed may reach."""
    return CrawlConfig(
        user_agent=settings.crawl_user_agent,
        delay=settings.crawl_delay,
        timeout=settings.crawl_timeout,
        retries=settings.crawl_retries,
        retry_after_max=settings.crawl_retry_after_max,
        allow_hosts=frozenset(h.strip().lower() for h in allow_hosts if h.strip()),
    )


def starts(folder: Path, urls: Sequence[str]) -> tuple[list[Start], list[str]]:
    """Start pages (with their source names) and the ids of the registered sources among them; without URLs,
    the registered sources that are due."""
    conn = state.connect(folder)
    try:
        registered = {s.url: s for s in sources.listed(conn)}
        chosen = [registered.get(u) for u in urls] if urls else sources.due(conn)
    finally:
        conn.close()
    if urls:
        return [Start(u, s.name if s else "") for u, s in zip(urls, chosen)], [
            s.id for s in chosen if s
        ]
    return [Start(s.url, s.name) for s in chosen if s], [s.id for s in chosen if s]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _mark(folder: Path, ids: list[str], done: dict) -> None:
    if ids:
        conn = state.connect(folder)
        try:
            sources.crawled(conn, ids, {k: v for k, v in done.items() if k != "skipped"})
        finally:
            conn.close()


def into_index(
    folder: Path,
    urls: Sequence[str],
    settings: Settings,
    write: Write,
    live: Live | None = None,
    allow_hosts: Sequence[str] = (),
    max_pages: int | None = None,
) -> dict:
    """One pass indexed as one change (ids as `POST /articles` gives the canonical URL); the summary."""
    chosen, ids = starts(folder, urls)
    result = crawl(chosen, folder, config(settings, allow_hosts), max_pages, live)
    report = write(changes.Change(upsert=tuple(result.articles))) if result.articles else None
    remember(folder, result, _now())
    done = {
        **summary(
            result,
            len(report.added) if report else 0,
            len(report.updated) if report else 0,
            report.unchanged if report else 0,
        ),
        "generation": report.generation if report else None,
        "sources": ids,
    }
    _mark(folder, ids, done)
    return done


def _also_at(result: Pass) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for url, article in result.duplicates:
        found.setdefault(article, []).append(url)
    return found


def into_bundle(
    folder: Path,
    urls: Sequence[str],
    dest: Path,
    settings: Settings,
    allow_hosts: Sequence[str] = (),
    max_pages: int | None = None,
) -> dict:
    """One pass written to a transfer bundle instead of the index; new/updated/unchanged against the last
    content this crawl state kept of each article."""
    chosen, ids = starts(folder, urls)
    result = crawl(chosen, folder, config(settings, allow_hosts), max_pages)
    conn = state.connect(folder)
    try:
        before = state.hashes(conn, [a.id for a in result.articles])
    finally:
        conn.close()
    when = _now()
    manifest = bundle.write(dest, result.articles, when, _also_at(result))
    remember(folder, result, when)
    new = sum(1 for a in result.articles if a.id not in before)
    updated = sum(1 for a in result.articles if a.id in before and before[a.id] != a.content_hash)
    done = {
        **summary(result, new, updated, len(result.articles) - new - updated),
        "bundle": str(dest),
        "bundle_members": manifest["count"],
        "sources": ids,
    }
    _mark(folder, ids, done)
    return done


def record_also_at(folder: Path, pairs: Sequence[tuple[str, str]]) -> None:
    """Keep the near-duplicate URLs a bundle carried, so answers show them in `also_at`."""
    if pairs:
        conn = state.connect(folder)
        try:
            state.record(conn, [], pairs, _now())
        finally:
            conn.close()
