"""One crawl pass: start pages → candidates → polite fetches (conditional) → articles, near-duplicates set
aside; the caller indexes or bundles the articles, then records the pass in the crawl state."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus.article import Article
from corpus.crawl import state
from corpus.crawl.config import CrawlConfig
from corpus.crawl.dedup import signature, to_bytes
from corpus.crawl.discover import Candidate, discover
from corpus.crawl.errors import Skip
from corpus.crawl.fetch import Fetched, Fetcher, host_of
from corpus.crawl.page import article_of


@dataclass(frozen=True)
class Start:
    """A start URL (feed, sitemap or listing) and the name to give its articles when a page names no site."""

    url: str
    name: str = ""


@dataclass
class Pass:
    """What a pass found: the articles to index, what to remember, and the counts of the summary."""

    articles: list[Article] = field(default_factory=list)
    kept: list[state.Kept] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (url, the kept article's id)
    fetched: int = 0
    not_modified: int = 0
    duplicate_count: int = 0
    skipped: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def skip(self, url: str, skip: Skip) -> None:
        self.skipped.append({"url": url, "reason": skip.reason, "detail": skip.detail})


def _candidates(
    fetcher: Fetcher, starts: Sequence[Start], config: CrawlConfig, result: Pass
) -> list[tuple[Candidate, Start, frozenset[str]]]:
    found: dict[str, tuple[Candidate, Start, frozenset[str]]] = {}
    for start in starts:
        hosts = frozenset({host_of(start.url)}) | config.allow_hosts

        def child(url: str, hosts: frozenset[str] = hosts) -> Fetched:
            if host_of(url) not in hosts:
                raise Skip(
                    "other_host", f"{host_of(url)} is not the source's host or an --allow-host"
                )
            return fetcher.get(url, hosts, accept=None)

        try:
            page = fetcher.get(start.url, hosts, accept=None)
            listed = discover(page, child, config.max_bytes)
        except Skip as skip:
            result.skip(start.url, skip)
            continue
        for url, failed in listed.skipped:
            result.skip(url, failed)
        for candidate in listed.candidates:
            if candidate.url in found:
                continue
            if host_of(candidate.url) not in hosts:
                result.skip(
                    candidate.url,
                    Skip(
                        "other_host",
                        f"{host_of(candidate.url)} is not the source's host or an --allow-host",
                    ),
                )
                continue
            found[candidate.url] = (candidate, start, hosts)
    return list(found.values())


def crawl(
    starts: Sequence[Start],
    folder: Path,
    config: CrawlConfig,
    max_pages: int | None = None,
    live: Callable[[Sequence[str]], set[str]] | None = None,
) -> Pass:
    """Fetch what the start pages name; `live` (the index's live ids) makes a page whose article is gone
    fetched in full again instead of conditionally."""
    result = Pass()
    conn = state.connect(folder)
    fetcher = Fetcher(config)
    try:
        near = state.near(conn)
        todo = _candidates(fetcher, starts, config, result)
        seen = state.seen(conn, [c.url for c, _, _ in todo])
        alive = live([s.article_id for s in seen.values() if s.article_id]) if live else None
        ids: set[str] = set()
        for number, (candidate, start, hosts) in enumerate(todo):
            if max_pages is not None and number >= max_pages:
                result.skip(candidate.url, Skip("max_pages", f"over --max-pages {max_pages}"))
                continue
            before = seen.get(candidate.url)
            ask = (
                before.validators
                if before and (alive is None or before.article_id in alive)
                else None
            )
            try:
                page = fetcher.get(candidate.url, hosts, validators=ask)
                if page.status == 304:
                    result.not_modified += 1
                    continue
                result.fetched += 1
                article = article_of(page, candidate, start.name, hosts)
            except Skip as skip:
                result.skip(candidate.url, skip)
                continue
            except (
                ValueError,
                RecursionError,
                MemoryError,
            ) as exc:  # a hostile page: skipped, never a crash
                result.skip(
                    candidate.url, Skip("unreadable", f"{type(exc).__name__}: {str(exc)[:160]}")
                )
                continue
            minhash = signature(article.text)
            if article.id in ids:  # two URLs of one page (tracking parameters, a redirect)
                result.duplicate_count += 1
                continue
            twin = near.match(article.id, minhash)
            if twin is not None:
                result.duplicate_count += 1
                result.duplicates.append((article.url, twin))
                result.kept.append(
                    state.Kept(candidate.url, page.validators, twin, article.url, "", b"")
                )
                continue
            near.add(article.id, minhash)
            ids.add(article.id)
            result.articles.append(article)
            result.kept.append(
                state.Kept(
                    candidate.url,
                    page.validators,
                    article.id,
                    article.url,
                    article.content_hash,
                    to_bytes(minhash),
                )
            )
    finally:
        fetcher.close()
        conn.close()
    return result


def remember(folder: Path, result: Pass, when: str) -> None:
    """Record the pass once its articles are safely indexed (or bundled): validators, signatures, duplicates."""
    conn = state.connect(folder)
    try:
        state.record(conn, result.kept, result.duplicates, when)
    finally:
        conn.close()


def summary(result: Pass, new: int, updated: int, unchanged: int) -> dict:
    """The `--json` summary of a pass."""
    return {
        "fetched": result.fetched,
        "new": new,
        "updated": updated,
        "unchanged": unchanged,
        "not_modified": result.not_modified,
        "duplicates": result.duplicate_count,
        "skipped": result.skipped,
        "seconds": round(time.monotonic() - result.started, 3),
    }
