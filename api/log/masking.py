"""Personal-looking strings masked before a query is written: mail addresses, phone numbers, 12-digit numbers."""

from __future__ import annotations

import re
import unicodedata

MASK = "＊＊＊"
_MAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
# A 12-digit run (マイナンバー) in one piece or split by spaces / hyphens as 4-4-4.
_TWELVE = re.compile(r"(?<!\d)\d{4}[ \-]?\d{4}[ \-]?\d{4}(?!\d)")
# Japanese phone numbers: 0 (or +81) then digits in up to five groups split by spaces, hyphens or brackets
# (03-1234-5678, 090(1234)5678, 0120-123-456, 0312345678, +81 3 1234 5678); a run is a phone number when a prefix
# of it that ends a group holds 10-11 digits (11-12 with the 81, which drops the 0).
_PHONE_RUN = re.compile(r"(?<![\d+])(?:\+81[ \-()]{0,2}|0)\d{0,10}(?:[ \-()]{1,2}\d{1,10}){0,4}")
_GROUP = re.compile(r"\d+")


def _phone(match: re.Match) -> str:
    """The run with its phone-number prefix masked (the whole run when it is all one number)."""
    run = match.group(0)
    low, high = (11, 12) if run.startswith("+") else (10, 11)
    digits = 0
    end = None
    for group in _GROUP.finditer(run):
        digits += len(group.group(0))
        if digits > high:
            break
        if digits >= low:
            end = group.end()
    return run if end is None else MASK + run[end:]


def mask(text: str) -> str:
    """The text with mail addresses, phone numbers and 12-digit numbers replaced by ＊＊＊ (full-width digits and
    signs are read as their ASCII forms first, so they are caught too)."""
    folded = unicodedata.normalize("NFKC", text)
    folded = _MAIL.sub(MASK, folded)
    folded = _PHONE_RUN.sub(
        _phone, folded
    )  # before the 12-digit numbers: 03-1234-5678 2023 is a phone and a year
    return _TWELVE.sub(MASK, folded)
