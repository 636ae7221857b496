"""Split a Japanese web article into passages along its structure, with offsets into the article."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

CHUNKER_VERSION = 2
ITEM_MARKS = ("■", "□", "●", "○", "◆", "◇", "▼", "▶", "➡", "→", "【", "[", "◎", "★", "☆")
LIST_RE = re.compile(r"^(?:[・･\-*+]\s*|[①-⑳⑴-⒇]|\(?\d{1,2}[).．]\s|[0-9０-９]+\.\s?(?!\d))")
URL_LINE_RE = re.compile(r"^\S*https?://\S+$")
MD_HEADING_RE = re.compile(r"^#{1,6}\s+")
BRACKET_HEADING_RE = re.compile(r"^【[^】]{1,30}】$")
SENTENCE_END = "。！？!?"
OPEN_BRACKETS, CLOSE_BRACKETS = "「『（(【〔［[", "」』）)】〕］]"
SOFT_HEADING_MAX = 40
NOT_HEADING_ENDS = ("。", "、", "…", "」", ")", "）", "など", "等", "ほか", "他")
ENUMERATION_MARKS = ("、", "，", ",")


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

    def span_with(self, line: Line) -> int:
        """Characters the passage would show (gaps between lines included) if `line` joined it."""
        return line.end - self.lines[0].start if self.lines else len(line.text)

    def length(self) -> int:
        """Characters the passage shows now."""
        return self.lines[-1].end - self.lines[0].start if self.lines else 0

    def has(self, kind: str) -> bool:
        """Whether any line of the draft is of this kind."""
        return any(line.kind == kind for line in self.lines)


def is_marked_heading(text: str) -> bool:
    """A heading by its markup: markdown `#` or a whole-line 【…】."""
    return bool(MD_HEADING_RE.match(text) or BRACKET_HEADING_RE.match(text))


def heading_text(text: str) -> str:
    """The heading string a heading line gives: the line without markdown `#` marks."""
    return MD_HEADING_RE.sub("", text)


def looks_like_heading(text: str) -> bool:
    """A short line that is not a sentence, a clause or an enumeration (「A、B など」 stays text)."""
    if len(text) > SOFT_HEADING_MAX or text.endswith(NOT_HEADING_ENDS) or text.startswith("※"):
        return False
    return not any(mark in text for mark in ENUMERATION_MARKS)


def is_prose(text: str | None) -> bool:
    """A line that reads like running text: long, or ending a sentence."""
    return text is not None and (len(text) > SOFT_HEADING_MAX or text.endswith(tuple(SENTENCE_END)))


def classify(text: str, prev_blank: bool, next_blank: bool, next_text: str | None = None) -> str:
    """The kind of one stripped line; a plain short line is a heading only when it opens a block."""
    if URL_LINE_RE.match(text):
        return "url"
    if is_marked_heading(text):
        return "heading"
    if text.startswith(ITEM_MARKS):
        return "item"
    if LIST_RE.match(text):
        return "list"
    opens_block = prev_blank and (next_blank or is_prose(next_text))
    return "heading" if opens_block and looks_like_heading(text) else "body"


def _raw_lines(text: str) -> Iterator[tuple[int, str]]:
    """Every line of the text (split on newlines) with its start offset."""
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with offsets and kinds; blank means empty or only whitespace."""
    raw = list(_raw_lines(text))
    lines: list[Line] = []
    blank = True
    for i, (start, line) in enumerate(raw):
        stripped = line.strip()
        if not stripped:
            blank = True
            continue
        nxt = raw[i + 1][1].strip() if i + 1 < len(raw) else ""
        lead = len(line) - len(line.lstrip())
        kind = classify(stripped, blank, not nxt, nxt or None)
        lines.append(Line(start + lead, start + lead + len(stripped), stripped, kind, blank))
        blank = False
    return _demote_empty_headings(lines)


def _demote_empty_headings(lines: list[Line]) -> list[Line]:
    """Plain short lines that head nothing are text: the last line, or a heading's only content."""
    out = list(lines)
    for i in range(len(out) - 1, -1, -1):
        line = out[i]
        if line.kind == "heading" and not is_marked_heading(line.text) and _is_only_content(out, i):
            out[i] = Line(line.start, line.end, line.text, "body", line.blank_before)
    return out


def _is_only_content(lines: list[Line], i: int) -> bool:
    """Whether line i ends the article, or sits alone between a heading and the next one."""
    if i + 1 == len(lines):
        return True
    return lines[i + 1].kind == "heading" and i > 0 and lines[i - 1].kind == "heading"


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
    return [piece for piece in pieces if piece.text]


def _hard_wrap(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Spans cut so that none is longer than `limit`."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend((i, min(i + limit, e)) for i in range(s, e, limit))
    return out


def _sub(line: Line, s: int, e: int) -> Line:
    """The part [s, e) of a line, without surrounding whitespace, as a body line."""
    text = line.text[s:e]
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    return Line(line.start + s + lead, line.start + s + lead + len(body), body, "body", False)


def _pieces(line: Line, config: ChunkerConfig) -> list[Line]:
    """The line itself, or its sentence groups when it is longer than max_chars."""
    return split_long(line, config) if len(line.text) > config.max_chars else [line]


def _breaks_before(draft: _Draft, line: Line, config: ChunkerConfig) -> bool:
    """Whether `line` starts a new passage instead of joining the draft."""
    if not draft.lines:
        return False
    if draft.span_with(line) > config.max_chars:
        return True
    if line.kind == "item":
        return draft.has("body") or draft.has("list")
    if line.kind == "body":
        long_para = len(line.text) >= config.paragraph and draft.length() >= config.paragraph
        return draft.has("body") and (long_para or draft.span_with(line) > config.target)
    return False


def _is_dangling(lines: list[Line], i: int) -> bool:
    """A heading with no content before the next heading or the end of the article."""
    return i + 1 == len(lines) or lines[i + 1].kind == "heading"


class _Passages:
    """Collects drafts into chunks under the current heading and section."""

    def __init__(self, text: str, config: ChunkerConfig) -> None:
        self.text, self.config = text, config
        self.chunks: list[Chunk] = []
        self.heading, self.section, self.draft = "", 0, _Draft()

    def flush(self) -> None:
        """Close the draft as a chunk, if it has lines."""
        if self.draft.lines:
            first, last = self.draft.lines[0], self.draft.lines[-1]
            chunk = Chunk(
                first.start, last.end, self.text[first.start : last.end], self.heading, self.section
            )
            self.chunks.append(chunk)
            self.draft.lines.clear()

    def add(self, line: Line) -> None:
        """Add a content line (cut if too long), starting new passages where the structure says."""
        for piece in _pieces(line, self.config):
            if _breaks_before(self.draft, piece, self.config):
                self.flush()
            self.draft.lines.append(piece)

    def open_section(self, line: Line) -> None:
        """Start the section a heading line names."""
        self.flush()
        self.heading, self.section = heading_text(line.text), self.section + 1

    def add_alone(self, line: Line) -> None:
        """A line that is a passage of its own (a heading with nothing under it)."""
        self.flush()
        self.add(line)
        self.flush()


def chunk_text(text: str, config: ChunkerConfig = ChunkerConfig()) -> list[Chunk]:
    """Passages of an article: one item or paragraph group each, headings as context, no line lost."""
    passages = _Passages(text, config)
    lines = split_lines(text)
    for i, line in enumerate(lines):
        if line.kind != "heading":
            passages.add(line)
            continue
        passages.open_section(line)
        if _is_dangling(lines, i):
            passages.add_alone(line)
    passages.flush()
    return passages.chunks
