"""A passage's content words (offsets and normalised form) packed as compact JSON text, and unpacked."""

from __future__ import annotations

import json


def pack_words(text: str, spans: list[tuple[int, int, str]]) -> str:
    """A flat JSON list: per word the gap from the previous word's start, its length, and its normalised form
    only where that differs from the text it covers (about half the text's size instead of 1.8 times)."""
    out: list = []
    previous = 0
    for start, end, form in spans:
        out += [start - previous, end - start] + ([] if form == text[start:end] else [form])
        previous = start
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def unpack_words(text: str, packed: str) -> list[tuple[int, int, str]]:
    """The (start, end, normalised form) list that `pack_words` packed for this text."""
    items, spans, start, i = json.loads(packed), [], 0, 0
    while i < len(items):
        start, end = start + items[i], start + items[i] + items[i + 1]
        form = items[i + 2] if i + 2 < len(items) and isinstance(items[i + 2], str) else None
        spans.append((start, end, text[start:end] if form is None else form))
        i += 2 if form is None else 3
    return spans
