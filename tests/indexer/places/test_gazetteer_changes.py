"""The dated table of changes over jp-prefecture's data: 浜松市's 2024 wards, former names, the table's own rows."""

from __future__ import annotations

import datetime

import pytest

from indexer.analysis.normalize import nfkc
from indexer.places.gazetteer import CHANGE_KINDS, FormerName, Gazetteer, check_digit, read_changes
from indexer.places.mentions import find_mentions
from indexer.places.subjects import extract

NEW_WARDS = [("浜松市中央区", "221384"), ("浜松市浜名区", "221392"), ("浜松市天竜区", "221406")]
OLD_WARDS = [
    ("浜松市中区", "221317"),
    ("浜松市東区", "221325"),
    ("浜松市西区", "221333"),
    ("浜松市南区", "221341"),
    ("浜松市北区", "221350"),
    ("浜松市浜北区", "221368"),
    ("浜松市天竜区", "221376"),
]
HELD = [
    ("浜松市中区", "221384"),
    ("浜松市東区", "221384"),
    ("浜松市西区", "221384"),
    ("浜松市南区", "221384"),
    ("浜松市浜北区", "221392"),
]


def codes(places) -> list[str]:
    return [p.code for p in places]


# --- 浜松市's wards since 2024-01-01 --------------------------------------------------------------------


@pytest.mark.parametrize("name, code", NEW_WARDS)
def test_new_wards_are_current_places(gazetteer, name, code):
    [ward] = gazetteer.by_name(name)
    assert (ward.code, ward.prefecture, ward.level, ward.kind) == (
        code,
        "静岡県",
        "municipality",
        "ward",
    )
    assert ward.code[5] == check_digit(ward.code[:5]) and gazetteer.by_code(code[:5]) == ward
    assert gazetteer.parent_city(ward).name == "浜松市" and not gazetteer.is_former(name)
    assert 34.6 < ward.lat < 35.0 and 137.6 < ward.lon < 137.9


def test_old_wards_are_no_current_places(gazetteer):
    current = {p.code for p in gazetteer}
    assert not current & {code for _, code in OLD_WARDS}
    assert [p.name for p in gazetteer if p.name.startswith("浜松市") and p.kind == "ward"] == [
        n for n, _ in NEW_WARDS
    ]


def test_hamamatsu_sits_among_its_new_wards(gazetteer):
    [city] = gazetteer.by_name("浜松市")
    wards = [gazetteer.by_code(code) for _, code in NEW_WARDS]
    assert city.kind == "designated_city"
    assert city.lat == pytest.approx(sum(w.lat for w in wards) / 3, abs=1e-5)
    assert city.lon == pytest.approx(sum(w.lon for w in wards) / 3, abs=1e-5)


# --- former names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, code", HELD)
def test_a_former_name_resolves_to_the_ward_that_holds_it(gazetteer, name, code):
    assert codes(gazetteer.by_name(name)) == [code] and gazetteer.is_former(name)
    assert name in gazetteer.former_names(code) and codes(gazetteer.successors(name)) == [code]


def test_former_names_of_each_new_ward(gazetteer):
    assert gazetteer.former_names("221384") == [
        "浜松市中区",
        "浜松市東区",
        "浜松市西区",
        "浜松市南区",
    ]
    assert gazetteer.former_names("22139") == ["浜松市浜北区"]
    assert gazetteer.former_names("221406") == []  # 天竜区 kept its name: not a former name
    assert gazetteer.former_names("131024") == []


def test_tenryu_keeps_its_name_under_a_new_code(gazetteer):
    assert codes(gazetteer.by_name("浜松市天竜区")) == ["221406"] and not gazetteer.is_former(
        "浜松市天竜区"
    )
    assert (
        gazetteer.by_code("221376").code == "221406" and gazetteer.by_code("22137").code == "221406"
    )


def test_split_kita_ku_resolves_to_no_ward(gazetteer):
    assert gazetteer.by_name("浜松市北区") == [] and gazetteer.is_former("浜松市北区")
    assert codes(gazetteer.successors("浜松市北区")) == ["221384", "221392"]
    assert all("浜松市北区" not in gazetteer.former_names(code) for _, code in NEW_WARDS)
    with pytest.raises(KeyError):
        gazetteer.by_code("221350")
    with pytest.raises(KeyError):
        gazetteer.by_code("22135")


@pytest.mark.parametrize(
    "old, new", [("221317", "221384"), ("22132", "221384"), ("221368", "221392")]
)
def test_a_former_code_gives_its_successor(gazetteer, old, new):
    assert gazetteer.by_code(old).code == new


def test_names_that_never_changed_are_not_former(gazetteer):
    assert (
        not gazetteer.is_former("府中市")
        and not gazetteer.is_former("本市")
        and gazetteer.successors("府中市") == []
    )
    assert [p.prefecture for p in gazetteer.by_name("北区")] == ["東京都"]


def test_fingerprint_covers_former_names(gazetteer):
    places = list(gazetteer)
    former = FormerName("221317", "浜松市中区", "静岡県", "2024-01-01", ("221384",))
    assert Gazetteer(places).fingerprint != Gazetteer(places, former=[former]).fingerprint
    assert codes(Gazetteer(places, former=[former]).by_name("浜松市中区")) == ["221384"]


# --- the table itself ---------------------------------------------------------------------------------


def test_every_row_of_the_table_is_well_formed(gazetteer):
    changes = read_changes()
    assert len(changes) >= 10
    for c in changes:
        assert datetime.date.fromisoformat(c.date).isoformat() == c.date and c.kind in CHANGE_KINDS
        assert all(
            len(x) == 6 and x.isdigit() and x[5] == check_digit(x[:5])
            for x in (c.code, *c.successors)
        )
        assert (
            c.name[-1] in "市町村区" and c.flag in "0123" and len(c.flag) == 1 and c.source.strip()
        )
        if c.kind == "new":
            assert c.lat is not None and c.lon is not None and 20 < c.lat < 46 and 122 < c.lon < 154
            assert not c.successors and gazetteer.by_code(c.code).name == c.name
        else:
            assert (
                c.lat is None
                and c.lon is None
                and c.successors
                and c.code not in {p.code for p in gazetteer}
            )
            assert all(gazetteer.by_code(s).code == s for s in c.successors)
    assert len({(c.kind, c.code) for c in changes}) == len(changes)


def test_the_table_has_hamamatsus_2024_reorganisation():
    rows = {(c.kind, c.code, c.name) for c in read_changes() if c.date == "2024-01-01"}
    assert {("new", code, name) for name, code in NEW_WARDS} <= rows
    assert {("abolished", code, name) for name, code in OLD_WARDS} <= rows


# --- mentions in text ---------------------------------------------------------------------------------


def test_mention_of_the_new_ward_in_a_sentence(gazetteer):
    text = nfkc("浜松市中央区役所で窓口のキャッシュレス化を始めた。")
    [mention] = extract(text, gazetteer)
    assert (mention.place.code, text[mention.start : mention.end], mention.role) == (
        "221384",
        "浜松市中央区",
        "subject",
    )


def test_mention_of_a_former_name_is_the_ward_holding_it(gazetteer):
    assert [
        (m.place.code, m.start, m.end) for m in find_mentions("浜松市中区役所で", gazetteer)
    ] == [("221384", 0, 5)]
    assert codes(m.place for m in find_mentions("浜松市の東区では", gazetteer)) == [
        "221309",
        "221384",
    ]
    assert codes(m.place for m in find_mentions("浜北区では", gazetteer)) == ["221392"]


def test_mention_of_split_kita_ku_is_the_city_only(gazetteer):
    assert codes(m.place for m in find_mentions("浜松市北区役所では", gazetteer)) == ["221309"]
    assert codes(m.place for m in find_mentions("浜松市の北区では", gazetteer)) == ["221309"]


def test_bare_chuo_ku_needs_its_prefecture(gazetteer):
    assert find_mentions("中央区では", gazetteer) == []
    assert codes(m.place for m in find_mentions("中央区では", gazetteer, ("静岡県",))) == ["221384"]
    assert codes(m.place for m in find_mentions("中央区では", gazetteer, ("東京都",))) == ["131024"]
    assert codes(m.place for m in find_mentions("浜松市の中央区では", gazetteer)) == [
        "221309",
        "221384",
    ]
    assert codes(m.place for m in find_mentions("浜名区と天竜区", gazetteer)) == [
        "221392",
        "221406",
    ]
