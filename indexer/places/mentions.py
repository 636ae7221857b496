"""Prefectures and municipalities named in NFKC Japanese text: where, and which place (ambiguous names resolved)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from indexer.places.gazetteer import Gazetteer, Place

ROLES = ("subject", "mention", "inherited")
_NAME_ENDS = frozenset("市町村区都道府県")
_PARTICLES = frozenset("のとやはもがにでをへ")
_DESIGNATORS = frozenset(
    ("同県", "本県", "当県", "同府", "同都", "同道")
)  # 同県宇佐市: kanji allowed before a name
_ORGANISATIONS = (
    "銀行",
    "信用金庫",
    "信金",
    "大学",
    "新聞",
    "電力",
    "放送",
    "テレビ",
)  # 北海道大学 is no place
_MARKET_WORDS = frozenset("場販")  # 船橋市場 is a market (市場), not 船橋市
_DISTRICT_CHARS = 5  # longest 郡 name before 郡 in the data is 4 kanji (三方上中郡)
_JOINER_RE = re.compile(r"\s?の?")
_PREFECTURE_PAREN_RE = re.compile(r"\s?[(（]\s?(?P<name>[^\s()（）、,・:]{2,4}?)\s?[)）、,・]")
ITEM_MARKS = "■□●○◆◇▼▽▶▷➡→★☆◎・•*"


@dataclass(frozen=True)
class Mention:
    """A place named (or inherited) by a passage: character span in the NFKC text (-1 when inherited) and role."""

    place: Place
    start: int
    end: int
    role: str


@dataclass(frozen=True)
class _Matcher:
    """Every written form of every place: surface → (place, weak) readings; weak readings need context."""

    readings: dict[str, tuple[tuple[Place, bool], ...]]
    longest: int


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    surface: str


@dataclass(frozen=True)
class _Hit:
    """A municipality form found in the text, with the prefecture written next to it (prefix or parenthesis)."""

    start: int
    end: int
    readings: tuple[tuple[Place, bool], ...]
    stated: str | None
    consumed: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Scan:
    prefectures: tuple[tuple[_Span, Place], ...]
    hits: tuple[_Hit, ...]


# --- the forms of a name ----------------------------------------------------------------------------


def _surfaces(place: Place, gazetteer: Gazetteer) -> Iterable[tuple[str, bool]]:
    """大阪市北区 is also written 北区 (weak when the root is one kanji: 桜区); 上士幌町 also 河東郡上士幌町; a former
    name is a form of the place holding it today (浜松市中区 and 中区 of 浜松市中央区, but not split 浜松市北区)."""
    names = (place.name, *gazetteer.former_names(place.code))
    yield from ((name, False) for name in names)
    if district := gazetteer.district(place):
        yield district + place.name, False
    if (city := gazetteer.parent_city(place)) is not None:
        for bare in (name[len(city.name) :] for name in names if name.startswith(city.name)):
            yield bare, len(bare) <= 2


_KANJI_VARIANTS = (
    ("ケ", "ヶ"),
    ("ヶ", "ケ"),
    ("檮", "梼"),
    ("檜", "桧"),
    ("龍", "竜"),
)  # 梼原町 for 檮原町


def _variants(surface: str) -> set[str]:
    """The name and its everyday spellings: 龍ケ崎市/竜ヶ崎市, 檮原町/梼原町, 檜原村/桧原村."""
    forms = {surface}
    for old, new in _KANJI_VARIANTS:
        forms |= {form.replace(old, new) for form in forms}
    return forms


@cache
def _matcher(gazetteer: Gazetteer) -> _Matcher:
    readings: dict[str, list[tuple[Place, bool]]] = {}
    for place in gazetteer:
        for surface, weak in _surfaces(place, gazetteer):
            for variant in _variants(surface):
                found = readings.setdefault(variant, [])
                if all(p.code != place.code for p, _ in found):
                    found.append((place, weak))
    return _Matcher({s: tuple(r) for s, r in readings.items()}, max(map(len, readings)))


# --- scanning ---------------------------------------------------------------------------------------


def _script(char: str) -> str:
    """kanji / hiragana / katakana / other of one character ("" is other)."""
    code = ord(char) if char else 0
    if (
        (char and char in "々〆ヶ")
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
    ):
        return "kanji"
    if 0x3041 <= code <= 0x309F:
        return "hiragana"
    return "katakana" if 0x30A0 <= code <= 0x30FF else "other"


def _open_before(text: str, start: int, end: int) -> bool:
    """A name cannot be the tail of a longer word: no kanji right before a kanji name (except after 都道府県郡,
    checked again later), no hiragana before a short hiragana name except a particle, no katakana before a
    katakana name, no name right before 銀行/大学/新聞… (北海道大学 is no place), no X市 in X市場/X市販."""
    if text.startswith(_ORGANISATIONS, end) or (
        text[end - 1] == "市" and text[end : end + 1] in _MARKET_WORDS
    ):
        return False
    prev = text[start - 1] if start else ""
    script = _script(prev)
    if script != _script(text[start]) or script == "other":
        return True
    if script == "kanji":
        return prev in "都道府県郡"
    long_kana = (
        _script(text[start + 2 : start + 3]) == "hiragana"
    )  # するつくば市 yes, にぎわいの町 no
    return script == "hiragana" and (prev in _PARTICLES or long_kana)


def _candidates(text: str, matcher: _Matcher) -> list[_Span]:
    """Every form that ends at a 市町村区都道府県 character and may start a word."""
    spans = []
    for end, char in enumerate(text, 1):
        if char not in _NAME_ENDS:
            continue
        for length in range(min(matcher.longest, end), 1, -1):
            if text[end - length : end] in matcher.readings and _open_before(
                text, end - length, end
            ):
                spans.append(_Span(end - length, end, text[end - length : end]))
    return spans


def _longest_first(spans: list[_Span], size: int) -> list[_Span]:
    taken = bytearray(size)
    chosen = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, s.start)):
        if not any(taken[span.start : span.end]):
            taken[span.start : span.end] = b"\1" * (span.end - span.start)
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _is_prefecture_form(span: _Span, matcher: _Matcher) -> bool:
    return matcher.readings[span.surface][0][0].level == "prefecture"


def _district_start(text: str, span: _Span, prefecture_ends: set[int]) -> int | None:
    """Start of `XX郡` before a town or village (generic: the data's own 郡 names are matched as forms)."""
    mark = span.start - 1
    start = mark
    while (
        start > 0
        and start not in prefecture_ends
        and _script(text[start - 1]) == "kanji"
        and mark - start < _DISTRICT_CHARS
    ):
        start -= 1
    return start if start < mark else None


def _anchor(text: str, span: _Span, prefecture_ends: set[int], matcher: _Matcher) -> _Span | None:
    """The span as a real name, or None when it is glued to a preceding kanji word."""
    prev = text[span.start - 1] if span.start else ""
    if _script(prev) != "kanji" or _script(span.surface[0]) != "kanji":
        return span
    if _is_prefecture_form(span, matcher):
        return None
    if span.start in prefecture_ends or text[span.start - 2 : span.start] in _DESIGNATORS:
        return span
    towns = span.surface[-1] in "町村"
    start = _district_start(text, span, prefecture_ends) if prev == "郡" and towns else None
    return _Span(start, span.end, span.surface) if start is not None else None


def _stated_after(
    text: str, end: int, gazetteer: Gazetteer
) -> tuple[str | None, tuple[int, int] | None]:
    """府中市(東京都) / 府中市（広島県） / 北区(東京): the prefecture in a parenthesis right after a name."""
    match = _PREFECTURE_PAREN_RE.match(text, end)
    place = gazetteer.prefecture(match["name"]) if match else None
    return (place.name, match.span()) if place and match else (None, None)


def _stated_before(
    text: str, start: int, prefectures: Sequence[tuple[_Span, Place]]
) -> tuple[_Span, Place] | None:
    for span, place in prefectures:
        if span.end <= start and _JOINER_RE.fullmatch(text, span.end, start):
            return span, place
    return None


def _hit(
    text: str,
    span: _Span,
    prefectures: Sequence[tuple[_Span, Place]],
    previous: _Hit | None,
    gazetteer: Gazetteer,
) -> _Hit:
    readings = _matcher(gazetteer).readings[span.surface]
    own = {p.prefecture for p, _ in readings}
    before = _stated_before(text, span.start, prefectures)
    prefix = before if before is not None and before[1].name in own else None
    after, paren = _stated_after(text, span.end, gazetteer)
    consumed = ((prefix[0].start, prefix[0].end),) if prefix else ()
    stated = prefix[1].name if prefix else after
    if stated is None and previous is not None and text[previous.end : span.start] in ("・", "、"):
        stated = previous.stated  # 群馬県渋川市・吉岡町: a list shares its prefecture
    return _Hit(span.start, span.end, readings, stated, consumed + ((paren,) if paren else ()))


def _scan(text: str, gazetteer: Gazetteer) -> _Scan:
    matcher = _matcher(gazetteer)
    spans = _longest_first(_candidates(text, matcher), len(text))
    prefectures = [
        (s, matcher.readings[s.surface][0][0])
        for s in spans
        if _is_prefecture_form(s, matcher) and _anchor(text, s, set(), matcher)
    ]
    ends = {s.end for s, _ in prefectures}
    hits: list[_Hit] = []
    for span in spans:
        if not _is_prefecture_form(span, matcher) and (
            anchored := _anchor(text, span, ends, matcher)
        ):
            hits.append(_hit(text, anchored, prefectures, hits[-1] if hits else None, gazetteer))
    return _Scan(tuple(prefectures), tuple(hits))


# --- resolving ambiguous names ----------------------------------------------------------------------


def _settled(hit: _Hit) -> Place | None:
    """The place when the form itself, or the prefecture written next to it, leaves one reading."""
    stated = [r for r in hit.readings if r[0].prefecture == hit.stated]
    if len(stated) == 1:
        return stated[0][0]
    return (
        hit.readings[0][0]
        if not stated and len(hit.readings) == 1 and not hit.readings[0][1]
        else None
    )


def _from_context(
    hit: _Hit, cities: set[str], context: Sequence[str], gazetteer: Gazetteer
) -> Place | None:
    """An ambiguous name: the ward of a city named nearby, else the reading in the first context prefecture
    that has any; two readings in that prefecture (大阪府: 大阪市北区, 堺市北区) settle nothing."""
    places = [p for p, _ in hit.readings if p.prefecture == hit.stated] or [
        p for p, _ in hit.readings
    ]
    in_city = [
        p for p in places if (city := gazetteer.parent_city(p)) is not None and city.code in cities
    ]
    if len(in_city) == 1:
        return in_city[0]
    for prefecture in context:
        inside = [p for p in places if p.prefecture == prefecture]
        if inside:
            return inside[0] if len(inside) == 1 else None
    return None


def unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _named(scan: _Scan) -> list[str]:
    """Prefectures a text names, in order, then those implied by its unambiguous municipalities."""
    settled = [place for hit in scan.hits if (place := _settled(hit)) is not None]
    return unique([p.name for _, p in scan.prefectures] + [p.prefecture for p in settled])


def named_prefectures(text: str, gazetteer: Gazetteer) -> list[str]:
    """Prefectures named in `text` (東京都, also inside 府中市(東京都)), then those of its unambiguous municipalities."""
    return _named(_scan(text, gazetteer))


def _resolve(scan: _Scan, context: Sequence[str], gazetteer: Gazetteer) -> list[tuple[_Hit, Place]]:
    settled = {i: place for i, hit in enumerate(scan.hits) if (place := _settled(hit)) is not None}
    cities = {p.code for p in settled.values() if p.kind == "designated_city"}
    order = unique([*_named(scan), *context])
    resolved = []
    for i, hit in enumerate(scan.hits):
        place = settled.get(i) or _from_context(hit, cities, order, gazetteer)
        if place is not None:
            resolved.append((hit, place))
    return resolved


def find_mentions(
    text: str, gazetteer: Gazetteer, context_prefectures: Sequence[str] = ()
) -> list[Mention]:
    """Every place named in `text` (NFKC), in order, role "mention".

    Longest form wins (東大和市 over 大和市, 港北区 over 北区); a form glued to a preceding kanji word is no name
    (観光市場, 天津市), except after a prefecture, 同県 or a 郡, which becomes part of the mention
    (河東郡上士幌町). A prefecture written right before (大分県宇佐市, 東京都の府中市) or in a parenthesis right
    after (府中市(東京都)) one of its municipalities is context, not a mention. A name with several readings
    (府中市, 北区, 伊達市) is settled by that context, else by a designated city named in the text (大阪市 → 北区),
    else by the first prefecture of: those named in the text, those of its unambiguous municipalities,
    `context_prefectures`; else it is dropped, never guessed.
    """
    scan = _scan(text, gazetteer)
    resolved = _resolve(scan, context_prefectures, gazetteer)
    consumed = {span for hit in scan.hits for span in hit.consumed}
    found = [Mention(place, hit.start, hit.end, "mention") for hit, place in resolved]
    found += [
        Mention(place, span.start, span.end, "mention")
        for span, place in scan.prefectures
        if not any(a <= span.start and span.end <= b for a, b in consumed)
    ]
    return sorted(found, key=lambda m: (m.start, m.end))
