"""Spans of a passage that match the query, as offsets into the passage text, and a snippet."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.analysis.lexical import content_words, word_spans
from indexer.analysis.normalize import lexical_form

SNIPPET = 90


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def query_terms(query: str) -> frozenset[str]:
    """The query's content words (normalised forms): what a passage's highlights mark."""
    return frozenset(form for _, _, form in content_words(lexical_form(query)))


def match_spans(text: str, query: str) -> list[Span]:
    """Passage words that are query words, adjacent ones joined: 窓口キャッシュレス, never 「スの」 or 「の事」."""
    return spans_of_terms(text, query_terms(query))


def spans_of_terms(text: str, terms: frozenset[str], words: list | None = None) -> list[Span]:
    """`match_spans` with the query's words worked out once for all its passages (offsets into `text`); `words` are
    the passage's content words as stored when it was written (`indexer.lexical.word_spans`), else worked out here."""
    if not terms:
        return []
    spans: list[Span] = []
    for start, end, form in word_spans(text) if words is None else words:
        if form not in terms:
            continue
        span = Span(start, end)
        touching = spans and not text[spans[-1].end : span.start].strip()
        spans[-1:] = [Span(spans[-1].start, span.end)] if touching else spans[-1:] + [span]
    return spans


def snippet(text: str, spans: list[Span], width: int = SNIPPET) -> str:
    """A short window of the passage around its first matched span."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    center = spans[0].start if spans else 0
    start = max(0, min(center - width // 3, len(text) - width))
    piece = " ".join(text[start : start + width].split())
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")
