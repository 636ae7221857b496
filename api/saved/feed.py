"""A saved search's Atom 1.0 feed (feedgen): the articles that arrived after it was saved and answer it, newest first."""

from __future__ import annotations

from urllib.parse import quote

from feedgen.feed import FeedGenerator

from api.saved.store import Hit, Saved

SUMMARY_MAX = 400


def _places(hit: Hit) -> str:
    names = dict.fromkeys(
        p["name"] if p["name"] == p["prefecture"] else f"{p['name']}（{p['prefecture']}）"
        for p in hit.places
    )
    return "、".join(names)


def atom(saved: Saved, hits: list[Hit], base: str) -> bytes:
    """The feed of `hits` (newest first) for `saved`; `base` is the server's URL, for ids and links."""
    feed = FeedGenerator()
    feed.id(f"{base}/saved-searches/{saved.id}/feed.atom")
    feed.title(f"新着事例: {saved.name}")
    feed.subtitle(f"「{saved.q}」に答える新しい記事 / new articles that answer {saved.q!r}")
    feed.link(href=f"{base}/saved-searches/{saved.id}/feed.atom", rel="self")
    feed.link(href=f"{base}/?q={quote(saved.q)}", rel="alternate")
    feed.language("ja")
    feed.author({"name": "jichitai-search"})
    feed.generator("jichitai-search")
    feed.updated(hits[0].found if hits else saved.created)
    for hit in reversed(hits):  # feedgen lists the last added first
        entry = feed.add_entry()
        entry.id(f"{base}/articles/{hit.article_id}#{saved.id}")
        entry.title(hit.title or hit.article_id)
        entry.link(href=hit.url or f"{base}/articles/{hit.article_id}")
        entry.updated(hit.found)
        if hit.published:
            entry.published(f"{hit.published}T00:00:00+09:00")
        places = _places(hit)
        text = hit.text if len(hit.text) <= SUMMARY_MAX else hit.text[:SUMMARY_MAX] + "…"
        entry.summary(
            f"{text}\n\n自治体: {places or '—'}" + (f"\n掲載元: {hit.source}" if hit.source else "")
        )
        for place in hit.places:
            entry.category(term=place["code"], label=place["name"])
    return feed.atom_str(pretty=True)
