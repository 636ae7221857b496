"""Main text and metadata of an HTML page, without navigation, scripts or styles."""
from __future__ import annotations

import re

from bs4 import BeautifulSoup

from corpus.metadata import parse_date

DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "template")
BLOCKS = ("p", "div", "li", "br", "tr", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt")


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return str(tag["content"]).strip()
    return ""


def _main_text(soup: BeautifulSoup) -> str:
    for tag in soup(DROP):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in root.find_all(BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (re.sub(r"[ \t\u3000]+", " ", line).strip() for line in root.get_text().splitlines())
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
