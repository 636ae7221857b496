"""The gazetteer from the real jp-prefecture data: counts, codes with check digits, names, coordinates."""

from __future__ import annotations

import dataclasses

import pytest

from indexer.places.gazetteer import KINDS, Gazetteer, Place, check_digit, full_code


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def test_loads_47_prefectures_and_every_municipality_and_ward(gaz):
    prefectures = gaz.prefectures()
    assert (
        len(prefectures) == 47
        and prefectures[0].name == "北海道"
        and prefectures[-1].name == "沖縄県"
    )
    assert 1900 <= len(gaz) - 47 <= 1950
    assert len(gaz) == len({p.code for p in gaz})
    kinds = {kind: sum(p.kind == kind for p in gaz) for kind in KINDS}
    assert kinds["special_ward"] == 23 and kinds["designated_city"] == 20 and kinds["ward"] > 150
    assert kinds["city"] > 700 and kinds["town"] > 700 and kinds["village"] > 150


def test_load_is_cached_per_process(gaz):
    assert Gazetteer.load() is gaz


@pytest.mark.parametrize(
    "five, six",
    [
        ("13204", "132047"),
        ("13000", "130001"),
        ("44000", "440001"),
        ("44211", "442119"),
        ("44213", "442135"),
        ("01100", "011002"),
    ],
)
def test_check_digit_matches_known_codes(five, six):
    assert full_code(five) == six


def test_check_digit_is_mod_11_with_ten_and_eleven_folded():
    # remainder 0 → 11 → 1 (大分県 44000), remainder 1 → 10 → 0
    assert check_digit("44000") == "1"
    assert any(check_digit(f"{n:05d}") == "0" for n in range(1000, 1100))
    with pytest.raises(ValueError):
        check_digit("4421")


def test_every_code_carries_its_check_digit(gaz):
    assert all(len(p.code) == 6 and p.code[5] == check_digit(p.code[:5]) for p in gaz)
    assert all(
        p.code.endswith(check_digit(p.code[:2] + "000")) and p.code[2:5] == "000"
        for p in gaz.prefectures()
    )


def test_lookup_by_six_or_five_digit_code(gaz):
    assert gaz.by_code("132047").name == "三鷹市"
    assert gaz.by_code("44211").name == "宇佐市" and gaz.by_code("442119").prefecture == "大分県"
    assert gaz.by_code("442135").name == "由布市"
    with pytest.raises(KeyError):
        gaz.by_code("999999")


def test_json_contract_for_prefecture_tokyo_ward_and_designated_city_ward(gaz):
    assert gaz.by_code("440001").to_json() == {
        "code": "440001",
        "name": "大分県",
        "prefecture": "大分県",
        "level": "prefecture",
    }
    kita = gaz.by_code("13117")
    assert kita.to_json() == {
        "code": "131172",
        "name": "北区",
        "prefecture": "東京都",
        "level": "municipality",
    }
    assert kita.kind == "special_ward"
    osaka_kita = gaz.by_name("大阪市北区")
    assert (
        len(osaka_kita) == 1
        and osaka_kita[0].kind == "ward"
        and osaka_kita[0].prefecture == "大阪府"
    )
    geo = osaka_kita[0].to_json_geo()
    assert (
        set(geo) == {"code", "name", "prefecture", "level", "lat", "lon"}
        and geo["name"] == "大阪市北区"
    )


def test_town_names_drop_their_district(gaz):
    [town] = gaz.by_name("上士幌町")
    assert town.kind == "town" and town.prefecture == "北海道" and gaz.district(town) == "河東郡"
    assert gaz.by_name("河東郡上士幌町") == []
    assert [p.kind for p in gaz.by_name("蒲郡市")] == ["city"] and gaz.district(
        gaz.by_name("蒲郡市")[0]
    ) is None
    [kamigori] = gaz.by_name("上郡町")
    assert kamigori.prefecture == "兵庫県" and gaz.district(kamigori) == "赤穂郡"


def test_by_name_returns_every_place_of_that_name(gaz):
    assert {p.prefecture for p in gaz.by_name("府中市")} == {"東京都", "広島県"}
    assert {p.prefecture for p in gaz.by_name("伊達市")} == {"北海道", "福島県"}
    assert [p.prefecture for p in gaz.by_name("北区")] == ["東京都"]
    assert gaz.by_name("本市") == []


@pytest.mark.parametrize(
    "written, name",
    [
        ("大分県", "大分県"),
        ("大分", "大分県"),
        ("東京", "東京都"),
        ("京都", "京都府"),
        ("大阪", "大阪府"),
        ("北海道", "北海道"),
        ("神奈川", "神奈川県"),
    ],
)
def test_prefecture_accepts_full_and_short_forms(gaz, written, name):
    assert gaz.prefecture(written).name == name


@pytest.mark.parametrize("written", ["京都市", "北海", "東京都北区", "", "Tokyo"])
def test_prefecture_rejects_other_names(gaz, written):
    assert gaz.prefecture(written) is None


def test_designated_cities_sit_among_their_wards(gaz):
    # the data gives designated cities degree-minute values as decimals; they are placed at their wards' mean
    for city, ward in [
        ("大阪市", "大阪市北区"),
        ("福岡市", "福岡市中央区"),
        ("札幌市", "札幌市中央区"),
    ]:
        c, w = gaz.by_name(city)[0], gaz.by_name(ward)[0]
        assert abs(c.lat - w.lat) < 0.1 and abs(c.lon - w.lon) < 0.1


def test_prefectures_sit_at_their_capital(gaz):
    def point(name: str) -> tuple[float, float]:
        place = gaz.by_name(name)[0]
        return place.lat, place.lon

    assert point("大分県") == point("大分市") and point("神奈川県") == point("横浜市")
    assert point("福岡県") == point("福岡市") != point("北九州市")
    assert point("栃木県") == point("宇都宮市") and point("沖縄県") == point("那覇市")
    assert point("東京都") == point("千代田区")


def test_every_place_lies_in_japan(gaz):
    names = {p.name for p in gaz.prefectures()}
    assert all(20 < p.lat < 46 and 122 < p.lon < 154 for p in gaz)
    assert all(
        p.prefecture in names and p.level in ("prefecture", "municipality") and p.kind in KINDS
        for p in gaz
    )


def test_places_are_frozen(gaz):
    with pytest.raises(dataclasses.FrozenInstanceError):
        gaz.by_code("132047").name = "武蔵野市"  # type: ignore[misc]
    assert isinstance(hash(gaz.by_code("132047")), int) and isinstance(gaz.by_code("132047"), Place)


def test_parent_city_of_wards_only(gaz):
    assert gaz.parent_city(gaz.by_name("北九州市小倉北区")[0]).name == "北九州市"
    assert gaz.parent_city(gaz.by_code("131172")) is None
