"""A fetched page as an Article: its charset decoded, main text through the HTML (or PDF) loader, title, date
(the page's, else the feed's), site name as source, canonical URL, and the id `POST /articles` gives that URL."""

from __future__ import annotations

import codecs
from dataclasses import replace

from corpus.article import Article
from corpus.crawl.canonical import canonical
from corpus.crawl.charset import decode
from corpus.crawl.discover import Candidate
from corpus.crawl.errors import Skip
from corpus.crawl.fetch import Fetched, host_of
from corpus.html import extract_soup
from corpus.identity import upload_id
from corpus.loaders import LoadError, parse_bytes

NAME = "page"  # the file name the loaders see; their fallback title would be this stem


def _skip(exc: LoadError) -> Skip:
    if "no text" in exc.en or "is empty" in exc.en or "no text layer" in exc.en:
        return Skip("no_text", exc.en)
    if "too long" in exc.en or "too large" in exc.en or "too many pages" in exc.en:
        return Skip("size", exc.en)
    return Skip("unreadable", exc.en)


def _sniff(page: Fetched) -> str:
    if page.media_type == "application/pdf" or (not page.media_type and page.body[:5] == b"%PDF-"):
        return ".pdf"
    return ".html"


def article_of(page: Fetched, candidate: Candidate, source: str, hosts: frozenset[str]) -> Article:
    """The article a fetched page holds (Skip `no_text` when it holds none)."""
    suffix = _sniff(page)
    data = page.body
    if suffix == ".html":
        text, _codec = decode(data, page.charset)
        data = codecs.BOM_UTF8 + text.encode(
            "utf-8"
        )  # the BOM outranks a <meta charset> that named the old one
    if suffix == ".html" and not extract_soup(data)["text"].strip():
        raise Skip("no_text", "no text outside navigation, header, footer and scripts")
    try:
        parsed = parse_bytes(data, NAME + suffix, key=page.url)
    except LoadError as exc:
        raise _skip(exc) from None
    title = parsed.title if parsed.title != NAME else (candidate.title or page.url)
    article = replace(
        parsed,
        title=title,
        url=canonical(page.url, parsed.url, hosts),
        published=parsed.published or candidate.published,
        source=parsed.source or source or host_of(page.url),
        path="",
    )
    return replace(article, id=upload_id(article))
