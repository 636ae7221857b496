"""Split a Japanese web article into passages along its structure, with offsets into the article."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

CHUNKER_VERSION = 1
ITEM_MARKS = ("■", "□", "●", "○", "◆", "◇", "▼", "▶", "➡", "→", "【", "[", "◎", "★", "☆")
LIST_RE = re.compile(r"^(?:[・･\-*+]\s*|[①-⑳⑴-⒇]|\(?\d{1,2}[).．]\s|[0-9０-９]+\.\s?(?!\d))")
URL_LINE_RE = re.compile(r"^\S*https?://\S+$")
MD_HEADING_RE = re.compile(r"^#{1,6}\s+")
BRACKET_HEADING_RE = re.compile(r"^【[^】]{1,30}】$")
SENTENCE_END = "。！？!?"
OPEN_BRACKETS, CLOSE_BRACKETS = "「『（(【〔［[", "」』）)】〕］]"


@dataclass(frozen=True)
class ChunkerConfig:
    """Sizes in characters: passages aim at `target`, never pass `max_chars`."""

    target: int = 320
    max_chars: int = 480
    paragraph: int = 80


@dataclass(frozen=True)
class Line:
    """One non-blank line of the article and what kind of line it is."""

    start: int
    end: int
    text: str
    kind: str  # heading | item | list | url | body
    blank_before: bool


@dataclass(frozen=True)
class Chunk:
    """A passage: its span in the article, the text shown, and the heading it sits under."""

    start: int
    end: int
    text: str
    heading: str
    section: int


@dataclass
class _Draft:
    lines: list[Line] = field(default_factory=list)

    def length(self) -> int:
        return sum(len(line.text) for line in self.lines)

    def has(self, kind: str) -> bool:
        return any(line.kind == kind for line in self.lines)


def classify(text: str, prev_blank: bool, next_blank: bool) -> str:
    """The kind of one stripped line."""
    if URL_LINE_RE.match(text):
        return "url"
    if MD_HEADING_RE.match(text) or BRACKET_HEADING_RE.match(text):
        return "heading"
    if text.startswith(ITEM_MARKS):
        return "item"
    if LIST_RE.match(text):
        return "list"
    short = len(text) <= 40 and not text.endswith(("。", "、", "…", "」", ")"))
    return "heading" if short and (prev_blank or next_blank) and next_blank is not None else "body"


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with offsets and kinds; blank means empty or only spaces."""
    raw = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[^\n]*", text) if m.start() != m.end() or True]
    spans = [(s, e, t) for s, e, t in raw if e > s or t == ""]
    lines: list[Line] = []
    blank = True
    content = [(s, e, t) for s, e, t in spans]
    for i, (start, end, line) in enumerate(content):
        stripped = line.strip(" \t\u3000\r\xa0")
        if not stripped:
            blank = True
            continue
        nxt = content[i + 1][2].strip(" \t\u3000\r\xa0") if i + 1 < len(content) else ""
        lead = len(line) - len(line.lstrip(" \t\u3000\r\xa0"))
        kind = classify(stripped, blank, not nxt)
        lines.append(Line(start + lead, start + lead + len(stripped), stripped, kind, blank))
        blank = False
    return lines


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: ends at 。！？ outside brackets, so quotes and asides stay whole."""
    spans, depth, begin = [], 0, 0
    for i, char in enumerate(text):
        if char in OPEN_BRACKETS:
            depth += 1
        elif char in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif char in SENTENCE_END and depth == 0:
            spans.append((begin, i + 1))
            begin = i + 1
    if begin < len(text):
        spans.append((begin, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def split_long(line: Line, config: ChunkerConfig) -> list[Line]:
    """A line longer than max_chars cut into sentence groups of about target size."""
    pieces: list[Line] = []
    group: tuple[int, int] | None = None
    for s, e in _hard_wrap(split_sentences(line.text), config.max_chars):
        if group and e - group[0] > config.target:
            pieces.append(_sub(line, *group))
            group = None
        group = (group[0], e) if group else (s, e)
    if group:
        pieces.append(_sub(line, *group))
    return pieces


def _hard_wrap(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    out = []
    for s, e in spans:
        out.extend((i, min(i + limit, e)) for i in range(s, e, limit))
    return out


def _sub(line: Line, s: int, e: int) -> Line:
    text = line.text[s:e]
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    return Line(line.start + s + lead, line.start + s + lead + len(body), body, "body", False)


def _breaks_before(draft: _Draft, line: Line, config: ChunkerConfig) -> bool:
    if not draft.lines:
        return False
    if draft.length() + len(line.text) > config.max_chars:
        return True
    if line.kind == "item":
        return draft.has("body") or draft.has("list")
    if line.kind == "body":
        long_para = len(line.text) >= config.paragraph and draft.length() >= config.paragraph
        return draft.has("body") and (long_para or draft.length() + len(line.text) > config.target)
    return False


def chunk_text(text: str, config: ChunkerConfig = ChunkerConfig()) -> list[Chunk]:
    """Passages of an article: one item or paragraph group each, headings kept as context."""
    chunks: list[Chunk] = []
    heading, section, draft = "", 0, _Draft()

    def flush() -> None:
        if draft.lines:
            first, last = draft.lines[0], draft.lines[-1]
            chunks.append(Chunk(first.start, last.end, text[first.start:last.end], heading, section))
            draft.lines.clear()

    for line in split_lines(text):
        if line.kind == "heading":
            flush()
            heading, section = MD_HEADING_RE.sub("", line.text), section + 1
            continue
        for piece in split_long(line, config) if len(line.text) > config.max_chars else [line]:
            if _breaks_before(draft, piece, config):
                flush()
            draft.lines.append(piece)
    flush()
    return chunks
