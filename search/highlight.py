"""Spans of a passage that match the query, as offsets into the passage text, and a snippet."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.lexical import char_spans
from indexer.normalize import lexical_form, nfkc_with_map

SNIPPET = 90


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def query_runs(query: str) -> list[str]:
    """The query's runs of letters and digits in lexical form."""
    norm = lexical_form(query)
    return [norm[s:e] for s, e in char_spans(norm)]


def _strong(piece: str) -> bool:
    return len(piece) >= 3 or not all("ぁ" <= c <= "ゟ" for c in piece)


def _longest_at(text: str, i: int, runs: list[str]) -> int:
    best = 0
    for length in range(2, len(text) - i + 1):
        piece = text[i:i + length]
        if not any(piece in run for run in runs):
            break
        best = length
    return best


def match_spans(text: str, query: str) -> list[Span]:
    """Maximal substrings (two characters or more, not bare particles) shared with the query."""
    return spans_of_runs(text, query_runs(query))


def spans_of_runs(text: str, runs: list[str]) -> list[Span]:
    """`match_spans` with the query's runs worked out once for all its passages."""
    pairs = {run[j:j + 2] for run in runs for j in range(len(run) - 1)}
    norm, origin = nfkc_with_map(text)
    folded = lexical_form(norm)
    norm = folded if len(folded) == len(norm) else norm
    spans, i = [], 0
    while i < len(norm):
        length = _longest_at(norm, i, runs) if norm[i:i + 2] in pairs else 0
        if length and _strong(norm[i:i + length]):
            span = Span(origin[i], origin[i + length - 1] + 1)
            touching = spans and spans[-1].end == span.start
            spans[-1:] = [Span(spans[-1].start, span.end)] if touching else spans[-1:] + [span]
            i += length
        else:
            i += 1
    return spans


def snippet(text: str, spans: list[Span], width: int = SNIPPET) -> str:
    """A short window of the passage around its first matched span."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    center = spans[0].start if spans else 0
    start = max(0, min(center - width // 3, len(text) - width))
    piece = " ".join(text[start:start + width].split())
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")
