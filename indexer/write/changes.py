"""What a writer asks for (a Change), what it did (a Report), and the plan every store follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError
from corpus.article import Article


class NoArticles(UserError):
    """Nothing to index: the result would be an empty index."""

    status, code = 409, "no_articles"

    def __init__(self) -> None:
        super().__init__("索引する記事がありません", "there are no articles to index")


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
        None  # the older commit point built on when the served one was damaged
    )
    segment: str | None = None  # the segment this write added, if it added one
    segments: int = 0  # live segments after the write
    prepared_chunks: int = 0  # passages chunked and resolved afresh (the rest came from the cache)


@dataclass(frozen=True)
class Ref:
    """Where a live article is stored, and what the writer compares or removes."""

    segment: str
    content_hash: str
    path: str
    chunks: int


@dataclass(frozen=True)
class Plan:
    """The articles to write into the new segment, the live ones to delete, and the counts to report."""

    write: tuple[Article, ...]
    gone: dict[str, Ref]
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


def plan(live: dict[str, Ref], change: Change, total_live: int) -> Plan:
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
