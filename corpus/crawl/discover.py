"""What a start page names: a feed (RSS 1.0/RDF, RSS 2.0, Atom), a sitemap (urlset or sitemapindex, plain or
gzipped) or an HTML listing page whose same-host links (depth 1) are the articles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup
from lxml import etree

from corpus.crawl.errors import Skip
from corpus.crawl.fetch import Fetched, host_of, inflate

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAP_DEPTH = 3  # an index of indexes of sitemaps at most


@dataclass(frozen=True)
class Candidate:
    """An article URL a start page names, with the date and title the feed gives (if any)."""

    url: str
    published: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Found:
    """What one start page gave: its kind, the article candidates, the sub-documents that failed."""

    kind: str  # feed | sitemap | listing
    candidates: tuple[Candidate, ...]
    skipped: tuple[tuple[str, Skip], ...] = ()


def _xml_root(data: bytes):
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        return etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _feed_date(entry) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return time.strftime("%Y-%m-%d", value)
    return None


def parse_feed(data: bytes, base: str) -> list[Candidate] | None:
    """The entries of an RSS 1.0/RDF, RSS 2.0 or Atom feed; None when `data` is no feed."""
    parsed = feedparser.parse(data, response_headers={"content-location": base})
    if not parsed.get("version"):
        return None
    found = []
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id") or ""
        if link:
            found.append(Candidate(urljoin(base, link), _feed_date(entry), entry.get("title", "")))
    return found


def parse_sitemap(data: bytes) -> tuple[str, list[Candidate]] | None:
    """('urlset', pages) or ('sitemapindex', sitemaps); None when `data` is no sitemap."""
    root = _xml_root(data)
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return None
    found = []
    for item in root:
        if _local(item.tag) not in ("url", "sitemap"):
            continue
        loc = next((c.text for c in item if _local(c.tag) == "loc" and c.text), None)
        date = next((c.text for c in item if _local(c.tag) == "lastmod" and c.text), None)
        if loc:
            found.append(Candidate(loc.strip(), (date or "")[:10] or None))
    return _local(root.tag), found


def listing_links(data: bytes, base: str) -> list[Candidate]:
    """The same-host http(s) links of an HTML page, resolved, without fragments, the page itself left out."""
    soup = BeautifulSoup(data, "lxml")
    host, here = host_of(base), base.split("#", 1)[0]
    found: dict[str, Candidate] = {}
    for anchor in soup.find_all("a", href=True):
        url = urljoin(base, str(anchor["href"]).strip()).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https") and host_of(url) == host and url != here:
            found.setdefault(url, Candidate(url, None, anchor.get_text(" ", strip=True)))
    return list(found.values())


def _body(page: Fetched, limit: int) -> bytes:
    data = page.body
    if data[:2] == b"\x1f\x8b":  # a .gz sitemap served as application/gzip
        data = inflate(data, limit, "sitemap")
    return data


def discover(page: Fetched, fetch: Callable[[str], Fetched], limit: int, depth: int = 0) -> Found:
    """The candidates of a fetched start page; `fetch` gets a sitemap index's sitemaps (Skip on failure)."""
    data = _body(page, limit)
    sitemap = parse_sitemap(data)
    if sitemap is not None:
        kind, entries = sitemap
        if kind == "urlset":
            return Found("sitemap", tuple(entries))
        candidates: list[Candidate] = []
        skipped: list[tuple[str, Skip]] = []
        for child in entries:
            if depth >= MAX_SITEMAP_DEPTH:
                skipped.append((child.url, Skip("unreadable", "sitemap indexes nested too deep")))
                continue
            try:
                found = discover(fetch(child.url), fetch, limit, depth + 1)
            except Skip as skip:
                skipped.append((child.url, skip))
                continue
            candidates += found.candidates
            skipped += found.skipped
        return Found("sitemap", tuple(candidates), tuple(skipped))
    stripped = data.lstrip()[:512].lower()
    if stripped.startswith(b"<?xml") or stripped.startswith((b"<rss", b"<rdf", b"<feed")):
        items = parse_feed(data, page.url)
        if items is not None:
            return Found("feed", tuple(items))
    if page.media_type in ("text/html", "application/xhtml+xml", "") and b"<" in data[:4096]:
        return Found("listing", tuple(listing_links(data, page.url)))
    items = parse_feed(data, page.url)
    if items is not None:
        return Found("feed", tuple(items))
    raise Skip("unreadable", f"not a feed, sitemap or HTML page ({page.media_type or 'no type'})")
