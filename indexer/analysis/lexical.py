"""The lexical tokens of the index: character unigrams and bigrams plus SudachiPy words (scored by indexer/stores/bm25.py)."""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections import Counter

from indexer.analysis.normalize import lexical_form, nfkc_with_map

TOKENIZER = "char-1-2gram+sudachi-C-v2"
_local = threading.local()


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def char_spans(text: str) -> list[tuple[int, int]]:
    """Runs of letters and digits in already-normalised text: the units n-grams are drawn from."""
    spans, start = [], None
    for i, char in enumerate(text + " "):
        if _is_word_char(char) and start is None:
            start = i
        elif not _is_word_char(char) and start is not None:
            spans.append((start, i))
            start = None
    return spans


@functools.cache
def _dictionary():
    """SudachiPy's core dictionary, loaded once per process (read-only, shared by threads)."""
    from sudachipy import Dictionary

    return Dictionary(dict="core")


def words(norm: str) -> list[str]:
    """SudachiPy mode C words with a letter or digit in them; one tokenizer per thread (it is not thread-safe)."""
    return [
        w
        for w in (m.surface() for m in _tokenizer("C").tokenize(norm))
        if any(map(_is_word_char, w))
    ]


def morphemes(norm: str, mode: str = "C") -> list:
    """SudachiPy morphemes of already-normalised text in split mode "A" or "C" (this thread's tokenizer)."""
    return list(_tokenizer(mode).tokenize(norm))


def _tokenizer(mode: str):
    """This thread's SudachiPy tokenizer for split mode "A" or "C" (a tokenizer is not thread-safe)."""
    tokenizer = getattr(_local, f"sudachi_{mode}", None)
    if tokenizer is None:
        from sudachipy import SplitMode

        tokenizer = _dictionary().tokenizer(getattr(SplitMode, mode))
        setattr(_local, f"sudachi_{mode}", tokenizer)
    return tokenizer


CONTENT_POS = frozenset(("名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞"))


def content_words(norm: str) -> list[tuple[int, int, str]]:
    """SudachiPy mode A content words (see `_is_content`): (start, end, normalised form) in `norm`."""
    return [
        (m.begin(), m.end(), m.normalized_form())
        for m in _tokenizer("A").tokenize(norm)
        if _is_content(m.part_of_speech()) and any(map(_is_word_char, m.surface()))
    ]


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """The content words of a passage as (start, end, normalised form), offsets into `text` itself: what its
    highlights are drawn from, worked out once when the passage is written (any query's marks are a subset)."""
    norm, origin = nfkc_with_map(text)
    folded = lexical_form(norm)
    norm = folded if len(folded) == len(norm) else norm
    return [(origin[start], origin[end - 1] + 1, form) for start, end, form in content_words(norm)]


def _is_content(pos: tuple[str, ...]) -> bool:
    """A content word: not a particle, auxiliary or symbol, nor a light verb or formal noun (する, こと)."""
    return pos[0] in CONTENT_POS and pos[1] != "非自立可能"


def char_grams(norm: str) -> list[str]:
    """Character unigrams and bigrams within each run; an ASCII run is also kept as one word."""
    tokens: list[str] = []
    for start, end in char_spans(norm):
        run = norm[start:end]
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        if run.isascii() and len(run) > 2:
            tokens.append(run)
    return tokens


def tokenize(text: str) -> list[str]:
    """Char 1-2-grams and SudachiPy words of the lexical form: the mix that ranked best on JSQuAD (README)."""
    norm = lexical_form(text)
    return char_grams(norm) + words(norm)


def counts(text: str) -> Counter:
    """Token counts of one passage: what its postings store."""
    return Counter(tokenize(text))
