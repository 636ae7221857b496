"""Every prefecture and municipality of Japan (jp-prefecture data) with its 6-digit local government code."""
from __future__ import annotations

import csv
import functools
import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Iterable, Iterator

LEVELS = ("prefecture", "municipality")
KINDS = ("prefecture", "city", "designated_city", "ward", "special_ward", "town", "village")
_DISTRICT_RE = re.compile(r"(?P<district>.+?郡)(?P<name>.+[町村])")
_WARD_RE = re.compile(r"(?P<city>.+?市)(?P<ward>.+区)")
_SUFFIX_KIND = {"市": "city", "町": "town", "村": "village", "区": "special_ward"}
_FLAG_KIND = {"1": "ward", "2": "designated_city"}


def check_digit(five: str) -> str:
    """Check digit of a 5-digit code: weights 6..2, mod 11, (11 - r) % 10 (総務省 全国地方公共団体コード)."""
    if len(five) != 5 or not five.isdigit():
        raise ValueError(f"not a 5-digit code: {five!r}")
    remainder = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2))) % 11
    return str((11 - remainder) % 10)


def full_code(five: str) -> str:
    """The 6-digit 全国地方公共団体コード of a 5-digit JIS X 0402 code."""
    return five + check_digit(five)


def short_prefecture_name(name: str) -> str:
    """大分県 → 大分, 東京都 → 東京, 京都府 → 京都; 北海道 stays 北海道."""
    return name if name == "北海道" else name[:-1]


@dataclass(frozen=True)
class Place:
    """A prefecture or a municipality (city, town, village, ward) with its code and a representative point."""

    code: str
    name: str
    prefecture: str
    level: str
    lat: float
    lon: float
    kind: str

    def to_json(self) -> dict:
        return {"code": self.code, "name": self.name, "prefecture": self.prefecture, "level": self.level}

    def to_json_geo(self) -> dict:
        return {**self.to_json(), "lat": self.lat, "lon": self.lon}

    @property
    def is_prefecture(self) -> bool:
        return self.level == "prefecture"


@dataclass(frozen=True)
class _Row:
    """One row of jp_prefecture/data/cities.csv."""

    pref_code: int
    city_code: str
    name: str
    lat: float
    lon: float
    flag: str


def _read_rows() -> list[_Row]:
    source = files("jp_prefecture").joinpath("data/cities.csv")
    with source.open(encoding="utf-8") as handle:
        return [_Row(int(r["prefCode"]), r["cityCode"].zfill(5), r["cityName"], float(r["latitude"]),
                     float(r["longitude"]), r["bigCityFlag"]) for r in csv.DictReader(handle)]


def _prefecture_names() -> dict[int, str]:
    from jp_prefecture import jp_prefectures  # imports pandas: only when the gazetteer is first loaded

    table = jp_prefectures.prefectures
    return {int(code): str(name) for code, name in zip(table.index, table["name"])}


def _kind(row: _Row) -> str:
    return _FLAG_KIND.get(row.flag) or _SUFFIX_KIND[row.name[-1]]


def _bare_name(row: _Row) -> str:
    """The name without its 郡 (河東郡上士幌町 → 上士幌町); ward names keep their city (大阪市北区)."""
    match = _DISTRICT_RE.fullmatch(row.name) if row.flag == "0" else None
    return match["name"] if match else row.name


def _municipality(row: _Row, prefecture: str) -> Place:
    return Place(full_code(row.city_code), _bare_name(row), prefecture, "municipality", row.lat, row.lon, _kind(row))


def _capital_row(name: str, rows: list[_Row]) -> _Row:
    """Where a prefecture is placed on a map, derived from the data (no hand-typed list of capitals).

    A designated city named after the prefecture (福岡県 → 福岡市, not 北九州市), else its first designated
    city (北海道 → 札幌市, 神奈川県 → 横浜市), else its first special ward (東京都 → 千代田区, the ward
    area), else its lowest-coded city (茨城県 → 水戸市). That is the prefectural capital for 46 of the 47;
    山口県 gets 下関市 (code 35201), about 50 km from its capital 山口市 (35203).
    """
    designated = [r for r in rows if r.flag == "2"]
    named = [r for r in designated if r.name == short_prefecture_name(name) + "市"]
    special = [r for r in rows if r.name.endswith("区") and r.flag == "3"]
    cities = sorted((r for r in rows if r.name.endswith("市")), key=lambda r: r.city_code)
    return (named or designated or special or cities or rows)[0]


def _with_ward_centres(rows: list[_Row]) -> list[_Row]:
    """Designated-city rows in the data carry degrees-minutes-seconds written as decimals (大阪市 34.4138,
    135.3808 lies in the sea; 福岡市 repeats 北九州市); place each designated city at the mean of its wards."""
    ward_rows = [r for r in rows if r.flag == "1"]

    def centre(city: _Row) -> _Row:
        if city.flag != "2":
            return city
        wards = [r for r in ward_rows if r.name.startswith(city.name)]
        if not wards:
            return city
        lat, lon = (round(sum(values) / len(wards), 6) for values in zip(*((w.lat, w.lon) for w in wards)))
        return replace(city, lat=lat, lon=lon)
    return [centre(r) for r in rows]


def _prefecture(code: int, name: str, rows: list[_Row]) -> Place:
    capital = _capital_row(name, rows)
    return Place(full_code(f"{code:02d}000"), name, name, "prefecture", capital.lat, capital.lon, "prefecture")


def _group(places: Iterable[Place], key) -> dict[str, tuple[Place, ...]]:
    grouped: dict[str, list[Place]] = {}
    for place in places:
        grouped.setdefault(key(place), []).append(place)
    return {k: tuple(v) for k, v in grouped.items()}


class Gazetteer:
    """All places, looked up by code, name or prefecture; built once per process by `load()`."""

    def __init__(self, places: Iterable[Place], districts: dict[str, str] | None = None):
        self._places = tuple(places)
        self._by_code = {p.code: p for p in self._places}
        self._by_name = _group(self._places, lambda p: p.name)
        self._prefectures = tuple(p for p in self._places if p.is_prefecture)
        self._prefecture_names = {n: p for p in self._prefectures
                                  for n in (p.name, short_prefecture_name(p.name))}
        self._districts = dict(districts or {})

    @classmethod
    def load(cls) -> Gazetteer:
        return _load_default()

    def __len__(self) -> int:
        return len(self._places)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A digest of every place and district: cached work done with another gazetteer is not reused."""
        rows = sorted(f"{p.code}\t{p.name}\t{p.prefecture}\t{p.kind}" for p in self._places)
        rows += sorted(f"{k}\t{v}" for k, v in self._districts.items())
        return hashlib.sha1("\n".join(rows).encode("utf-8")).hexdigest()[:16]

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places)

    def by_code(self, code: str) -> Place:
        """A place by its 6-digit code, or by the 5-digit code without check digit; KeyError if unknown."""
        code = str(code).strip()
        if len(code) == 5 and code.isdigit():
            code = full_code(code)
        return self._by_code[code]

    def by_name(self, name: str) -> list[Place]:
        """All places with exactly this name (府中市 → two; 大阪市北区 → one; 北区 → the Tokyo ward)."""
        return list(self._by_name.get(name, ()))

    def prefectures(self) -> list[Place]:
        return list(self._prefectures)

    def prefecture(self, name: str) -> Place | None:
        """A prefecture by its full name (大分県) or its short form (大分, 東京, 京都, 大阪, 北海道)."""
        return self._prefecture_names.get(name.strip())

    def municipalities(self) -> list[Place]:
        return [p for p in self._places if not p.is_prefecture]

    def district(self, place: Place) -> str | None:
        """The 郡 a town or village belongs to in the data (上士幌町 → 河東郡), if any."""
        return self._districts.get(place.code)

    def parent_city(self, place: Place) -> Place | None:
        """The designated city of a ward (大阪市北区 → 大阪市)."""
        match = _WARD_RE.fullmatch(place.name) if place.kind == "ward" else None
        cities = [p for p in self.by_name(match["city"]) if p.prefecture == place.prefecture] if match else []
        return cities[0] if cities else None


def _districts(rows: list[_Row]) -> dict[str, str]:
    return {full_code(r.city_code): m["district"] for r in rows
            if r.flag == "0" and (m := _DISTRICT_RE.fullmatch(r.name))}


@cache
def _load_default() -> Gazetteer:
    rows = _with_ward_centres(_read_rows())
    names = _prefecture_names()
    places: list[Place] = []
    for code, name in sorted(names.items()):
        own = [r for r in rows if r.pref_code == code]
        places.append(_prefecture(code, name, own))
        places.extend(_municipality(r, name) for r in own)
    return Gazetteer(places, _districts(rows))
