"""Read .txt, .md, .html and .pdf files into Articles; bad files become LoadErrors, never crashes."""

from __future__ import annotations

import datetime
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.errors import UserError
from corpus.article import Article, article_id
from corpus.metadata import find_urls, parse_date, read_header

if TYPE_CHECKING:
    from pypdf import PdfReader

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_BYTES = 20 * 1024 * 1024
MAX_CHARS = 300_000  # longer articles are refused: split them into several files
MAX_PDF_PAGES = 2000
TITLE_MAX = 200  # title and source are cut to this many characters


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


_NEWLINES = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_INVISIBLE = "\u200b\u2060\ufeff"  # zero-width space, word joiner, stray BOM; ZWJ and variation selectors stay
_CLEAN = str.maketrans(
    {
        **{chr(c): None for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n"},
        **{c: "\n" for c in _NEWLINES},
        **{c: None for c in _INVISIBLE},
    }
)
_ANSI = re.compile(r"\x1b\[[0-?]{0,32}[ -/]{0,8}[@-~]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text without control characters (but \\t and \\n), terminal escapes, zero-width spaces or lone surrogates.

    Line breaks of every kind (`\\r\\n`, `\\r`, form feed, vertical tab, U+2028) become `\\n`;
    surrogate pairs become the character they encode and lone surrogates U+FFFD.
    """
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CLEAN)


def _one_line(text: str, limit: int | None = None) -> str:
    """A cleaned single-line field (title, source, URL), cut to `limit` characters."""
    line = " ".join(part.strip() for part in clean_text(text).split("\n") if part.strip()).replace(
        "\t", " "
    )
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (BOM allowed) or a LoadError; NUL bytes mean binary."""
    if b"\x00" in data:
        raise LoadError(
            name, "テキストではないファイルです（バイナリ）", "not a text file (binary)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            name,
            f"UTF-8 として読めません（{exc.start} バイト目）",
            f"not valid UTF-8 (byte {exc.start})",
        ) from None


def parse_txt(data: bytes, name: str) -> dict:
    """Plain text: the header lines give title, source and date."""
    text = decode_text(data, name)
    header = read_header(text.splitlines())
    return {
        "title": header.title,
        "text": text,
        "source": header.source,
        "published": header.published,
    }


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MD_HEADING = re.compile(
    r"^#{1,6}[ \t]+(\S.*)$", re.M
)  # no nested quantifiers: linear on hostile lines


def _heading_text(line: str) -> str:
    """A Markdown heading without its closing `#` sequence (`# 題 ##` → `題`)."""
    line = line.rstrip()
    bare = line.rstrip("#")
    return bare.rstrip() if bare != line and (not bare or bare[-1] in " \t") else line


def _front_matter(block: str, name: str) -> dict:
    """The YAML front matter as a dict ({} when it is not a mapping), or a LoadError when it is broken."""
    import yaml

    try:
        loaded = yaml.safe_load(block)
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where_ja, where_en = (
            (f"（{mark.line + 2} 行目）", f" (line {mark.line + 2})") if mark else ("", "")
        )
        raise LoadError(
            name,
            f"YAML フロントマターを読めません{where_ja}。--- で囲んだ部分を直してください",
            f"cannot read the YAML front matter{where_en}; fix the part between the --- lines",
        ) from None
    return loaded if isinstance(loaded, dict) else {}


def _meta_str(meta: dict, *keys: str) -> str:
    """The first scalar value among `keys`; lists and mappings (maybe alias bombs) are ignored."""
    for key in keys:
        value = meta.get(key)
        if (
            isinstance(value, (str, int, float, datetime.date))
            and not isinstance(value, bool)
            and str(value)
        ):
            return str(value)
    return ""


def parse_md(data: bytes, name: str) -> dict:
    """Markdown: YAML front matter if any, else the first heading is the title."""
    text = decode_text(data, name).replace("\r\n", "\n")
    meta: dict = {}
    front = _FRONT_MATTER.match(text)
    if front:
        meta = _front_matter(front.group(1), name)
        text = text[front.end() :]
    heading = _MD_HEADING.search(text)
    header = read_header(text.splitlines())
    return {
        "title": _meta_str(meta, "title")
        or (_heading_text(heading.group(1)) if heading else header.title),
        "text": text,
        "source": _meta_str(meta, "source"),
        "published": parse_date(_meta_str(meta, "date", "published")) or header.published,
        "url": _meta_str(meta, "url"),
    }


def parse_html(data: bytes, name: str) -> dict:
    """HTML: title and meta tags, and the main text without navigation, scripts or styles."""
    from corpus.html import extract_html

    return extract_html(data, name)


def _pdf_pages_text(reader: PdfReader, name: str) -> str:
    """The text layer of every page, at most MAX_PDF_PAGES pages, stopping once past MAX_CHARS."""
    count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise LoadError(
            name,
            f"PDF のページが多すぎます（{count:,} ページ、上限 {MAX_PDF_PAGES:,} ページ）。"
            "ファイルを分けてください",
            f"the PDF has too many pages ({count:,}, limit {MAX_PDF_PAGES:,}); split the file",
        )
    pages: list[str] = []
    chars = 0
    for page in reader.pages:
        pages.append((page.extract_text() or "").strip())
        chars += len(pages[-1])
        if chars > MAX_CHARS:
            raise _too_long(name, chars, at_least=True)
    return "\n\n".join(pages)


def _pdf_date(value: str) -> str | None:
    """`D:20230401…` as `2023-04-01`, or None when it is no valid date."""
    return (
        parse_date(f"{value[2:6]}-{value[6:8]}-{value[8:10]}")
        if re.match(r"D:\d{8}", value)
        else None
    )


def _info_text(info: dict, key: str) -> str:
    """A text entry of the PDF's document info; '' when missing or not text (a nested dictionary, say)."""
    value: Any = info.get(key)
    value = value.get_object() if hasattr(value, "get_object") else value
    return str(value) if isinstance(value, str) else ""


def parse_pdf(data: bytes, name: str) -> dict:
    """PDF: the text layer page by page, and the document info; any pypdf failure becomes a LoadError."""
    from pypdf import PdfReader

    # pypdf logs every defect it works around (thousands on a hostile file); a refusal is a LoadError instead
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        text = _pdf_pages_text(reader, name)
        info: dict = reader.metadata or {}
        title, author, date = (
            _info_text(info, key) for key in ("/Title", "/Author", "/CreationDate")
        )
    except (LoadError, MemoryError):
        raise
    except (
        Exception
    ) as exc:  # pypdf raises many kinds on broken files; each one is the file's fault
        raise LoadError(
            name,
            f"PDF を読めません。壊れているおそれがあります（{_describe(exc)}）",
            f"cannot read the PDF; it may be damaged ({_describe(exc)})",
        ) from exc
    if not text.strip():
        raise LoadError(
            name,
            "PDF にテキスト層がありません（画像のみ）",
            "the PDF has no text layer (images only)",
        )
    header = read_header(text.splitlines())
    return {
        "title": title or header.title,
        "text": text,
        "source": author or header.source,
        "published": header.published or _pdf_date(date),
    }


PARSERS: dict[str, Callable[[bytes, str], dict]] = {
    ".txt": parse_txt,
    ".md": parse_md,
    ".markdown": parse_md,
    ".html": parse_html,
    ".htm": parse_html,
    ".pdf": parse_pdf,
}
_KINDS = {
    ".txt": "テキスト",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".html": "HTML",
    ".htm": "HTML",
    ".pdf": "PDF",
}


def _describe(exc: BaseException) -> str:
    """`TypeName: message`, one line, at most 200 characters, safe to print."""
    text = _one_line(f"{type(exc).__name__}: {exc}".rstrip(": "))
    return text if len(text) <= 200 else text[:199] + "…"


def _too_long(name: str, chars: int, at_least: bool = False) -> LoadError:
    """The refusal of an article over MAX_CHARS characters."""
    more_ja, more_en = ("以上", "at least ") if at_least else ("", "")
    return LoadError(
        name,
        f"記事が長すぎます（{chars:,} 文字{more_ja}、上限 {MAX_CHARS:,} 文字）。ファイルを分けてください",
        f"the article is too long ({more_en}{chars:,} characters, limit {MAX_CHARS:,}); split the file",
    )


def _parse(suffix: str, data: bytes, name: str) -> dict:
    """The parser's fields; any exception it raises (deep nesting included) becomes a LoadError naming the file."""
    try:
        return PARSERS[suffix](data, name)
    except (LoadError, MemoryError):
        raise
    except RecursionError:
        raise LoadError(
            name,
            f"{_KINDS[suffix]} の入れ子が深すぎて読めません",
            f"the {_KINDS[suffix]} is nested too deeply to read",
        ) from None
    except Exception as exc:
        raise LoadError(
            name,
            f"{_KINDS[suffix]} として読めません（{_describe(exc)}）",
            f"cannot read as {_KINDS[suffix]} ({_describe(exc)})",
        ) from exc


def suffix_of(name: str) -> str:
    """The lower-case suffix of a file name, `.txt` for `.txt` and `a.TXT` alike, '' when none."""
    base = re.split(r"[/\\]", name)[-1]
    extension = base.rpartition(".")[2] if "." in base else ""
    return f".{extension.lower()}" if extension else ""


def _fallback_title(name: str) -> str:
    """A title from the file name when the file gives none: its stem, or the whole name."""
    base = re.split(r"[/\\]", name)[-1]
    stem = base[: len(base) - len(suffix_of(base))]
    return _one_line(stem.strip(" ."), TITLE_MAX) or _one_line(base, TITLE_MAX) or "無題"


def _safe_key(key: str) -> str:
    """The key as encodable text (lone surrogates backslash-escaped), so the id never fails."""
    return key.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


def parse_bytes(data: bytes, name: str, key: str | None = None, path: str = "") -> Article:
    """One article from a file's bytes; the suffix of `name` picks the parser."""
    suffix = suffix_of(name)
    if suffix not in PARSERS:
        raise LoadError(
            name,
            f"対応していない形式です（{suffix or '拡張子なし'}）: {', '.join(SUFFIXES)}",
            f"unsupported format ({suffix or 'no suffix'}); use one of {', '.join(SUFFIXES)}",
        )
    if not data.strip():
        raise LoadError(name, "空のファイルです", "the file is empty")
    if len(data) > MAX_BYTES:
        raise LoadError(
            name,
            f"ファイルが大きすぎます（{len(data):,} バイト、上限 {MAX_BYTES:,} バイト）。ファイルを分けてください",
            f"the file is too large ({len(data):,} bytes, limit {MAX_BYTES:,}); split the file",
        )
    fields = _parse(suffix, data, name)
    text = clean_text(fields["text"])
    if not text.strip():
        raise LoadError(name, "本文がありません", "the file has no text")
    if len(text) > MAX_CHARS:
        raise _too_long(name, len(text))
    return Article(
        id=article_id(_safe_key(key or name)),
        title=_one_line(fields["title"] or "", TITLE_MAX) or _fallback_title(name),
        text=text,
        source=_one_line(fields.get("source") or "", TITLE_MAX),
        published=fields.get("published"),
        url=_one_line(fields.get("url") or ""),
        path=path,
        urls=find_urls(text),
    )


def load_file(path: Path, key: str | None = None) -> Article:
    """One article from a file on disk; its key (for the stable id) defaults to the file name."""
    try:
        data = path.read_bytes()
        where = str(path.resolve())
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LoadError(str(path), f"読めません: {reason}", f"cannot read: {reason}") from None
    if _SURROGATE.search(where):
        raise LoadError(
            _safe_key(str(path)),
            "ファイル名が UTF-8 ではありません。名前を付け直してください",
            "the file name is not valid UTF-8; rename the file",
        )
    return parse_bytes(data, path.name, key=key or path.name, path=where)


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Each file under the paths with its id key: the path relative to the folder given, or its name."""
    for root in paths:
        if root.is_dir():
            for file in sorted(
                p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
            ):
                yield file, file.relative_to(root).as_posix()
        else:
            yield root, root.name


def load_paths(paths: Iterable[Path]) -> Loaded:
    """Every article under the files and folders; failures are collected, the rest still load."""
    paths = list(paths)
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
