"""The text of a page as its bytes mean it: the header's charset, else the <meta>'s, else detection."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# What Japanese sites mean by these labels: Windows-31J (cp932) is Shift_JIS plus the NEC/IBM extensions (①, ㈱, 髙)
WIDER = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = WIDER.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def meta_charset(data: bytes) -> str | None:
    """The charset a `<meta charset>` or `<meta http-equiv=Content-Type>` in the first 4 KB names."""
    found = META.search(data[:4096])
    return found.group(1).decode("ascii") if found else None


def decode(data: bytes, header: str | None) -> tuple[str, str]:
    """(text, codec): the first of header, <meta> and BOM-less UTF-8 that decodes cleanly, else the detected one."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    for label in (header, meta_charset(data), "utf-8"):
        codec = _codec(label)
        if codec:
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                continue
    best = from_bytes(data[:200_000]).best()
    codec = _codec(best.encoding if best else None) or _codec(header) or "utf-8"
    return data.decode(codec, "replace"), codec
