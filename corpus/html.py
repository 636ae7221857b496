"""Main text (trafilatura, BeautifulSoup as fallback) and metadata of an HTML page, without boilerplate."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterator

from bs4 import (
    BeautifulSoup,
    CData,
    MarkupResemblesLocatorWarning,
    NavigableString,
    PageElement,
    Tag,
)

from corpus.metadata import parse_date

DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "template",
)
BLOCKS = (
    "p",
    "div",
    "li",
    "br",
    "tr",
    "section",
    "article",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dd",
    "dt",
)
SEPARATORS = "|｜-－–—:：/／<>«»"  # between a page's title and its site name in <title>
PRUNE = "//nav|//header|//footer|//aside"  # dropped before trafilatura too; not <form>: ASP.NET wraps pages in one
TABLE_RULE = re.compile(r"\|[-|: ]+")  # a markdown table's rule line: |---|---|
TEXT_TYPES = (
    NavigableString,
    CData,
)  # what get_text() keeps: no comments, ruby readings, scripts or styles

# We always pass a file's content, never its name: a page that is just `x.html` is not a mistake
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return str(tag["content"]).strip()
    return ""


def walk(root: Tag) -> Iterator[tuple[bool, PageElement]]:
    """Every element under `root` in document order, `(True, el)` on entering and `(False, tag)` on leaving.

    Dropped tags (scripts, navigation, …) are skipped with all they hold. The walk keeps its own
    stack, so a page nested 100,000 tags deep costs linear time and no recursion.
    """
    stack: list[tuple[Tag, Iterator[PageElement]]] = [(root, iter(root.contents))]
    while stack:
        tag, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            yield False, tag
        elif not isinstance(child, Tag):
            yield True, child
        elif child.name not in DROP:
            yield True, child
            stack.append((child, iter(child.contents)))


def _root(soup: BeautifulSoup) -> Tag:
    """The first <main>, else the first <article>, else <body>, outside dropped tags."""
    article = None
    for entering, node in walk(soup):
        if entering and isinstance(node, Tag):
            if node.name == "main":
                return node
            if node.name == "article" and article is None:
                article = node
    return article or soup.body or soup


def _main_text(soup: BeautifulSoup) -> str:
    parts: list[str] = []
    for _entering, node in walk(_root(soup)):
        if isinstance(node, Tag):
            if node.name in BLOCKS:
                parts.append("\n")
        elif type(node) in TEXT_TYPES:
            parts.append(str(node))
    return _tidy("".join(parts))


def _soup_fields(soup: BeautifulSoup) -> dict:
    """Title, canonical URL, source and the meta date as the tags give them."""
    h1 = soup.find("h1")
    title = (
        _meta(soup, "og:title")
        or (soup.title.get_text(strip=True) if soup.title else "")
        or (h1.get_text(strip=True) if h1 else "")
    )
    canonical = soup.find("link", rel="canonical")
    url = _meta(soup, "og:url") or (
        str(canonical["href"]) if canonical and canonical.get("href") else ""
    )
    return {
        "title": title,
        "url": url,
        "source": _meta(soup, "og:site_name", "author"),
        "date": _meta(soup, "article:published_time", "date", "dc.date", "pubdate"),
    }


def extract_soup(data: bytes) -> dict:
    """Title, source, date, canonical URL and main text, read with BeautifulSoup alone (the fallback)."""
    soup = BeautifulSoup(data, "lxml")
    fields = _soup_fields(soup)
    text = _main_text(soup)
    return {
        "title": fields["title"],
        "text": text,
        "source": fields["source"],
        "url": fields["url"],
        "published": parse_date(fields["date"]) or parse_date(text[:300]),
    }


def _title_parts(soup: BeautifulSoup) -> tuple[str, str]:
    """A `<title>` that is an <h1> then a separator (`記事名｜青葉市`) as (記事名, 青葉市), else ('', '')."""
    title = soup.title.get_text(strip=True) if soup.title else ""
    for h1 in soup.find_all("h1", limit=5):
        heading = h1.get_text(strip=True)
        rest = title[len(heading) :].lstrip() if heading and title.startswith(heading) else ""
        if rest[:1] and rest[0] in SEPARATORS:
            return heading, rest.lstrip(SEPARATORS).strip()
    return "", ""


def _trafilatura_text(html: str) -> str:
    """trafilatura's main text (recall-leaning, tables kept, semantic boilerplate pruned), tidied; '' if none."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, favor_recall=True, include_comments=False, include_tables=True, prune_xpath=PRUNE
    )
    assert not isinstance(doc, dict)  # as_dict=False (the default): a Document or None
    return _tidy(doc.text) if doc and doc.text and doc.text.strip() else ""


def _trafilatura_keeps(text: str) -> bool:
    """Whether trafilatura gives these characters back as they are: it NFC-normalises and drops ZWJs (U+200D)."""
    return "\u200d" not in text and unicodedata.is_normalized("NFC", text)


def _tidy(text: str) -> str:
    """Lines without runs of spaces or table rules (`|---|`), at most one blank line in a row, ending in a newline."""
    lines = (re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.splitlines())
    text = "\n".join(line for line in lines if not TABLE_RULE.fullmatch(line))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def extract_html(data: bytes, name: str) -> dict:
    """Title, source, date, canonical URL and main text of an HTML document.

    The main text is trafilatura's, or BeautifulSoup's when trafilatura finds none (a tiny page) or would change
    its characters. trafilatura reads the page as BeautifulSoup decoded it (the declared charset wins over its
    guess). The metadata comes from the tags: trafilatura's dates are often wrong on Japanese pages.
    """
    soup = BeautifulSoup(data, "lxml")
    fields = _soup_fields(soup)
    heading, site = _title_parts(soup)
    fallback = _main_text(soup)
    html = data.decode(soup.original_encoding or "utf-8", "replace")
    text = (_trafilatura_text(html) if _trafilatura_keeps(fallback) else "") or fallback
    return {
        "title": _meta(soup, "og:title") or heading or fields["title"],
        "text": text,
        "source": fields["source"] or site,
        "url": fields["url"],
        "published": parse_date(fields["date"])
        or parse_date(text[:300])
        or parse_date(fallback[:300]),
    }
