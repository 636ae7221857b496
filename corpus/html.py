"""Main text and metadata of an HTML page, without navigation, scripts or styles."""
from __future__ import annotations

import re
import warnings
from typing import Iterator

from bs4 import BeautifulSoup, CData, MarkupResemblesLocatorWarning, NavigableString, PageElement, Tag

from corpus.metadata import parse_date

DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "template")
BLOCKS = ("p", "div", "li", "br", "tr", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt")
TEXT_TYPES = (NavigableString, CData)  # what get_text() keeps: no comments, ruby readings, scripts or styles

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
    for entering, node in walk(_root(soup)):
        if isinstance(node, Tag):
            if node.name in BLOCKS:
                parts.append("\n")
        elif type(node) in TEXT_TYPES:
            parts.append(str(node))
    lines = (re.sub(r"[ \t\u3000]+", " ", line).strip() for line in "".join(parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def extract_html(data: bytes, name: str) -> dict:
    """Title, source, date, canonical URL and main text of an HTML document."""
    soup = BeautifulSoup(data, "lxml")
    h1 = soup.find("h1")
    title = _meta(soup, "og:title") or (soup.title.get_text(strip=True) if soup.title else "") or (
        h1.get_text(strip=True) if h1 else "")
    canonical = soup.find("link", rel="canonical")
    url = _meta(soup, "og:url") or (str(canonical["href"]) if canonical and canonical.get("href") else "")
    date = _meta(soup, "article:published_time", "date", "dc.date", "pubdate")
    source = _meta(soup, "og:site_name", "author")
    text = _main_text(soup)
    return {"title": title, "text": text, "source": source, "url": url,
            "published": parse_date(date) or parse_date(text[:300])}
