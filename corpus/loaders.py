"""Read .txt, .md, .html and .pdf files into Articles; bad files become LoadErrors, never crashes."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from common.errors import UserError
from corpus.article import Article, article_id
from corpus.metadata import find_urls, parse_date, read_header

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_BYTES = 20 * 1024 * 1024


class LoadError(UserError):
    """A file that cannot become an article, with the reason in Japanese and English."""

    status, code, field = 422, "invalid_file", "file"

    def __init__(self, path: str, ja: str, en: str) -> None:
        super().__init__(ja, en)
        self.path = path
        self.args = (f"{path}: {ja} / {en}",)


@dataclass(frozen=True)
class Loaded:
    """What reading a set of paths gave: the articles and the files that failed."""

    articles: tuple[Article, ...]
    errors: tuple[LoadError, ...]


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (BOM allowed) or a LoadError; NUL bytes mean binary."""
    if b"\x00" in data:
        raise LoadError(name, "テキストではないファイルです（バイナリ）", "not a text file (binary)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(name, f"UTF-8 として読めません（{exc.start} バイト目）",
                        f"not valid UTF-8 (byte {exc.start})") from None


def parse_txt(data: bytes, name: str) -> dict:
    """Plain text: the header lines give title, source and date."""
    text = decode_text(data, name)
    header = read_header(text.splitlines())
    return {"title": header.title, "text": text, "source": header.source, "published": header.published}


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def parse_md(data: bytes, name: str) -> dict:
    """Markdown: YAML front matter if any, else the first heading is the title."""
    text = decode_text(data, name).replace("\r\n", "\n")
    meta: dict = {}
    front = _FRONT_MATTER.match(text)
    if front:
        import yaml

        loaded = yaml.safe_load(front.group(1))
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[front.end():]
    heading = _MD_HEADING.search(text)
    header = read_header(text.splitlines())
    return {
        "title": str(meta.get("title") or (heading.group(1) if heading else header.title)),
        "text": text,
        "source": str(meta.get("source") or ""),
        "published": parse_date(str(meta.get("date") or meta.get("published") or "")) or header.published,
        "url": str(meta.get("url") or ""),
    }


def parse_html(data: bytes, name: str) -> dict:
    """HTML: title and meta tags, and the main text without navigation, scripts or styles."""
    from corpus.html import extract_html

    return extract_html(data, name)


def parse_pdf(data: bytes, name: str) -> dict:
    """PDF: the text layer page by page, and the document info."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError) as exc:
        raise LoadError(name, f"PDF を読めません: {exc}", f"cannot read PDF: {exc}") from None
    if not text.strip():
        raise LoadError(name, "PDF にテキスト層がありません（画像のみ）", "the PDF has no text layer (images only)")
    header = read_header(text.splitlines())
    date = str(info.get("/CreationDate") or "")
    iso = f"{date[2:6]}-{date[6:8]}-{date[8:10]}" if re.match(r"D:\d{8}", date) else None
    return {"title": str(info.get("/Title") or header.title), "text": text,
            "source": str(info.get("/Author") or header.source), "published": header.published or iso}


PARSERS: dict[str, Callable[[bytes, str], dict]] = {
    ".txt": parse_txt, ".md": parse_md, ".markdown": parse_md,
    ".html": parse_html, ".htm": parse_html, ".pdf": parse_pdf,
}


def parse_bytes(data: bytes, name: str, key: str | None = None, path: str = "") -> Article:
    """One article from a file's bytes; the suffix of `name` picks the parser."""
    suffix = Path(name).suffix.lower()
    if suffix not in PARSERS:
        raise LoadError(name, f"対応していない形式です（{suffix or '拡張子なし'}）: {', '.join(SUFFIXES)}",
                        f"unsupported format ({suffix or 'no suffix'}); use one of {', '.join(SUFFIXES)}")
    if not data.strip():
        raise LoadError(name, "空のファイルです", "the file is empty")
    if len(data) > MAX_BYTES:
        raise LoadError(name, "ファイルが大きすぎます", f"the file is larger than {MAX_BYTES} bytes")
    fields = PARSERS[suffix](data, name)
    text = fields["text"].replace("\r\n", "\n")
    if not text.strip():
        raise LoadError(name, "本文がありません", "the file has no text")
    return Article(id=article_id(key or name), title=fields["title"] or Path(name).stem, text=text,
                   source=fields.get("source", ""), published=fields.get("published"),
                   url=fields.get("url", ""), path=path, urls=find_urls(text))


def load_file(path: Path, key: str | None = None) -> Article:
    """One article from a file on disk; its key (for the stable id) defaults to the file name."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(str(path), f"読めません: {exc.strerror}", f"cannot read: {exc.strerror}") from None
    return parse_bytes(data, path.name, key=key or path.name, path=str(path.resolve()))


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Each file under the paths with its id key: the path relative to the folder given, or its name."""
    for root in paths:
        if root.is_dir():
            for file in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
                yield file, file.relative_to(root).as_posix()
        else:
            yield root, root.name


def load_paths(paths: Iterable[Path]) -> Loaded:
    """Every article under the files and folders; failures are collected, the rest still load."""
    articles: list[Article] = []
    errors: list[LoadError] = []
    for path in paths:
        if not path.exists():
            errors.append(LoadError(str(path), "パスが存在しません", "no such file or directory"))
    for file, key in iter_files(p for p in paths if p.exists()):
        try:
            articles.append(load_file(file, key))
        except LoadError as exc:
            errors.append(exc)
    return Loaded(tuple(_unique(articles)), tuple(errors))


def _unique(articles: list[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for article in articles:
        seen[article.id] = article
    return list(seen.values())


def with_id(article: Article, key: str) -> Article:
    """The same article under the id of another key (an API upload's URL or title)."""
    return replace(article, id=article_id(key))
