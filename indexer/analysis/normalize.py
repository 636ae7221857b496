"""NFKC normalisation that remembers where each output character came from."""

from __future__ import annotations

import re
import unicodedata

_LONG_VOWELS = (("－", "ー"), ("―", "ー"), ("‐", "ー"), ("ｰ", "ー"), ("〜", "~"), ("～", "~"))
_DASH_AFTER_KANA = re.compile(r"(?<=[\u30a1-\u30fa\u30fc])[-\u2010-\u2015\u2212]")


def nfkc(text: str) -> str:
    """NFKC, the normal form for embedding and matching."""
    return unicodedata.normalize("NFKC", text)


def nfkc_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC of each character, and for every output character the index of its source character.

    Normalising character by character keeps offsets exact; it differs from whole-string
    NFKC only for combining sequences, which Japanese articles rarely contain.
    """
    if unicodedata.is_normalized(
        "NFKC", text
    ):  # stored passages already are: every character maps to itself
        return text, list(range(len(text)))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        out.append(piece)
        origin.extend([index] * len(piece))
    return "".join(out), origin


def lexical_form(text: str) -> str:
    """The form the lexical index sees: NFKC, lower case, long vowels unified (a dash after katakana is ー)."""
    form = nfkc(text).lower()
    for (
        variant,
        common,
    ) in _LONG_VOWELS:  # str.replace: several times faster than str.translate with a dict
        if variant in form:
            form = form.replace(variant, common)
    return _DASH_AFTER_KANA.sub("ー", form)
