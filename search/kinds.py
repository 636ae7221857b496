"""The kind of government a query asks for (「…できる区」, 「市独自の…」, 「県の事例」) and the kind of a place."""

from __future__ import annotations

from indexer.analysis import lexical
from indexer.analysis.normalize import lexical_form

CITY, WARD, TOWN, VILLAGE, PREFECTURE = "市", "区", "町", "村", "prefecture"
ASKED = {
    "市": {CITY},
    "区": {WARD},
    "町": {TOWN},
    "村": {VILLAGE},
    "県": {PREFECTURE},
    "都道府県": {PREFECTURE},
    "市役所": {CITY},
    "区役所": {WARD},
    "町役場": {TOWN},
    "村役場": {VILLAGE},
    "県庁": {PREFECTURE},
    "市町村": {CITY, TOWN, VILLAGE},
    "市区町村": {CITY, WARD, TOWN, VILLAGE},
}
NOUNS = ("名詞", "接尾辞")  # a kind word followed by one of these modifies it (都道府県 + 委員会)
COMMON = (
    "普通名詞",
    "名詞的",
)  # a common noun or noun suffix, not part of a place's proper name (渋谷区, 北区)


def asked_kinds(query: str) -> frozenset[str]:
    """The kinds of government the query names on their own, as what it looks for: a kind word that ends its noun
    phrase (「…できる区」, 「市独自」, 「県の事例」; not 「都道府県委員会」); empty when it names none."""
    found: set[str] = set()
    morphs = list(lexical.morphemes(lexical_form(query)))
    for m, after in zip(morphs, morphs[1:] + [None]):
        modifies = after is not None and after.part_of_speech()[0] in NOUNS
        if m.part_of_speech()[1] in COMMON and not modifies:
            found |= ASKED.get(m.surface(), set())
    return frozenset(found)


def kind_of(place: dict) -> str:
    """A place's kind: a prefecture, else the last character of a municipality's name (市, 区, 町 or 村)."""
    return PREFECTURE if place["level"] == "prefecture" else place["name"][-1:]


def answers(places, asked: frozenset[str]) -> bool:
    """Whether a passage is about a government of an asked kind (one of its places is its subject, or inherited)."""
    return any(p["role"] != "mention" and kind_of(p) in asked for p in places)
