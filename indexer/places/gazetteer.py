"""Every prefecture and municipality of Japan (jp-prefecture data) with its 6-digit local government code.

jp-prefecture's cities.csv predates some changes (浜松市's seven wards became 中央区・浜名区・天竜区 on 2024-01-01).
indexer/places/data/gazetteer_changes.csv lists them, dated, each row with its source: new codes are added and abolished
ones dropped when the gazetteer loads. An abolished place's name stays a former name: it resolves to the one place
that took over its whole area (浜松市中区 → 浜松市中央区, old code 221317 → 221384); a place that was split
(浜松市北区 → 中央区 and 浜名区) resolves to none (see `Gazetteer.successors` for its parts).
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import TypeVar

LEVELS = ("prefecture", "municipality")
KINDS = ("prefecture", "city", "designated_city", "ward", "special_ward", "town", "village")
_DISTRICT_RE = re.compile(r"(?P<district>.+?郡)(?P<name>.+[町村])")
_WARD_RE = re.compile(r"(?P<city>.+?市)(?P<ward>.+区)")
_SUFFIX_KIND = {"市": "city", "町": "town", "村": "village", "区": "special_ward"}
_FLAG_KIND = {"1": "ward", "2": "designated_city"}
CHANGE_KINDS = ("new", "abolished")
_CHANGES = "data/gazetteer_changes.csv"
_T = TypeVar("_T")


def check_digit(five: str) -> str:
    """Check digit of a 5-digit code: weights 6..2, mod 11, (11 - r) % 10 (総務省 全国地方公共団体コード)."""
    if len(five) != 5 or not five.isdigit():
        raise ValueError(f"not a 5-digit code: {five!r}")
    remainder = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2))) % 11
    return str((11 - remainder) % 10)


def is_full_code(code: str) -> bool:
    """Whether `code` is 6 ASCII digits whose last is the check digit of the first five."""
    return (
        len(code) == 6 and code.isascii() and code.isdecimal() and code[5] == check_digit(code[:5])
    )


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
        return {
            "code": self.code,
            "name": self.name,
            "prefecture": self.prefecture,
            "level": self.level,
        }

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


@dataclass(frozen=True)
class Change:
    """One row of indexer/places/data/gazetteer_changes.csv: a code that starts ("new") or ends ("abolished") on a date."""

    date: str
    kind: str
    code: str
    name: str
    flag: str
    lat: float | None
    lon: float | None
    successors: tuple[str, ...]
    source: str

    @property
    def pref_code(self) -> int:
        return int(self.code[:2])

    def row(self) -> _Row:
        """The row jp-prefecture would have for a new place."""
        if self.lat is None or self.lon is None:
            raise ValueError(f"new place {self.name} has no point")
        return _Row(self.pref_code, self.code[:5], self.name, self.lat, self.lon, self.flag)


@dataclass(frozen=True)
class FormerName:
    """A name a place held until a change (浜松市中区, code 221317) and the current codes that took over its area."""

    code: str
    name: str
    prefecture: str
    until: str
    successors: tuple[str, ...]


def _read_rows() -> list[_Row]:
    source = files("jp_prefecture").joinpath("data/cities.csv")
    with source.open(encoding="utf-8") as handle:
        return [
            _Row(
                int(r["prefCode"]),
                r["cityCode"].zfill(5),
                r["cityName"],
                float(r["latitude"]),
                float(r["longitude"]),
                r["bigCityFlag"],
            )
            for r in csv.DictReader(handle)
        ]


def _six_digit(code: str) -> str:
    """`code` when it is a 6-digit code with the right check digit, else ValueError."""
    if not is_full_code(code):
        raise ValueError(f"not a 6-digit code with its check digit: {code!r}")
    return code


def _change(r: dict[str, str]) -> Change:
    if r["kind"] not in CHANGE_KINDS:
        raise ValueError(f"unknown kind of change: {r['kind']!r}")
    point = [float(r[k]) if r[k] else None for k in ("lat", "lon")]
    return Change(
        datetime.date.fromisoformat(r["date"]).isoformat(),
        r["kind"],
        _six_digit(r["code"]),
        r["name"],
        r["big_city_flag"],
        point[0],
        point[1],
        tuple(_six_digit(c) for c in r["successors"].split()),
        r["source"],
    )


def read_changes() -> list[Change]:
    """The rows of indexer/places/data/gazetteer_changes.csv (lines starting with # are comments); ValueError if malformed."""
    source = files("indexer.places").joinpath(_CHANGES)
    with source.open(encoding="utf-8") as handle:
        return [
            _change(r) for r in csv.DictReader(line for line in handle if not line.startswith("#"))
        ]


def _apply(rows: list[_Row], changes: Sequence[Change]) -> list[_Row]:
    """jp-prefecture's rows brought up to date, in date order: abolished codes dropped, new ones added (a new row
    replaces the package's row of the same code, should a later package carry it too)."""
    current = {r.city_code: r for r in rows}
    for change in sorted(changes, key=lambda c: c.date):
        if change.kind == "abolished":
            current.pop(change.code[:5], None)
        else:
            current[change.code[:5]] = change.row()
    return sorted(current.values(), key=lambda r: (r.pref_code, r.city_code))


def _former_names(changes: Sequence[Change], prefectures: dict[int, str]) -> list[FormerName]:
    return [
        FormerName(
            c.code, _bare_name(c.name, c.flag), prefectures[c.pref_code], c.date, c.successors
        )
        for c in changes
        if c.kind == "abolished"
    ]


def _prefecture_names() -> dict[int, str]:
    from jp_prefecture import (
        jp_prefectures,  # imports pandas: only when the gazetteer is first loaded
    )

    table = jp_prefectures.prefectures
    return {int(code): str(name) for code, name in zip(table.index, table["name"])}


def _kind(row: _Row) -> str:
    return _FLAG_KIND.get(row.flag) or _SUFFIX_KIND[row.name[-1]]


def _bare_name(name: str, flag: str) -> str:
    """The name without its 郡 (河東郡上士幌町 → 上士幌町); ward names keep their city (大阪市北区)."""
    match = _DISTRICT_RE.fullmatch(name) if flag == "0" else None
    return match["name"] if match else name


def _municipality(row: _Row, prefecture: str) -> Place:
    return Place(
        full_code(row.city_code),
        _bare_name(row.name, row.flag),
        prefecture,
        "municipality",
        row.lat,
        row.lon,
        _kind(row),
    )


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
        lat, lon = (
            round(sum(values) / len(wards), 6) for values in zip(*((w.lat, w.lon) for w in wards))
        )
        return replace(city, lat=lat, lon=lon)

    return [centre(r) for r in rows]


def _prefecture(code: int, name: str, rows: list[_Row]) -> Place:
    capital = _capital_row(name, rows)
    return Place(
        full_code(f"{code:02d}000"),
        name,
        name,
        "prefecture",
        capital.lat,
        capital.lon,
        "prefecture",
    )


def _group(places: Iterable[_T], key: Callable[[_T], str]) -> dict[str, tuple[_T, ...]]:
    grouped: dict[str, list[_T]] = {}
    for place in places:
        grouped.setdefault(key(place), []).append(place)
    return {k: tuple(v) for k, v in grouped.items()}


class Gazetteer:
    """All places, looked up by code, name or prefecture; built once per process by `load()`."""

    def __init__(
        self,
        places: Iterable[Place],
        districts: dict[str, str] | None = None,
        former: Iterable[FormerName] = (),
    ):
        self._places = tuple(places)
        self._by_code = {p.code: p for p in self._places}
        self._by_name = _group(self._places, lambda p: p.name)
        self._prefectures = tuple(p for p in self._places if p.is_prefecture)
        self._prefecture_names = {
            n: p for p in self._prefectures for n in (p.name, short_prefecture_name(p.name))
        }
        self._districts = dict(districts or {})
        self._former = tuple(former)
        self._former_by_name = _group(self._former, lambda f: f.name)
        self._former_by_code = {f.code: f for f in self._former}
        self._former_of: dict[str, list[str]] = {}
        for f in self._former:
            if (holder := self._holder(f)) is not None and self.is_former(f.name):
                self._former_of.setdefault(holder.code, []).append(f.name)

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
        rows += sorted(
            f"{f.code}\t{f.name}\t{f.until}\t{' '.join(f.successors)}" for f in self._former
        )
        return hashlib.sha1("\n".join(rows).encode("utf-8")).hexdigest()[:16]

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places)

    def by_code(self, code: str) -> Place:
        """A place by its 6-digit code, or by the 5-digit code without check digit; a former code gives the place
        that took over its whole area (221317 浜松市中区 → 浜松市中央区); KeyError if unknown or split (221350)."""
        code = str(code).strip()
        if len(code) == 5 and code.isdigit():
            code = full_code(code)
        former = self._former_by_code.get(code)
        holder = self._holder(former) if former is not None and code not in self._by_code else None
        return holder if holder is not None else self._by_code[code]

    def by_name(self, name: str) -> list[Place]:
        """All places with exactly this name (府中市 → two; 大阪市北区 → one; 北区 → the Tokyo ward), then the place
        holding it as a former name (浜松市中区 → 浜松市中央区); a split one (浜松市北区) gives none of its parts."""
        holders = [
            h for f in self._former_by_name.get(name, ()) if (h := self._holder(f)) is not None
        ]
        return list({p.code: p for p in (*self._by_name.get(name, ()), *holders)}.values())

    def is_former(self, name: str) -> bool:
        """Whether `name` was a place's until a change and is no current place's (浜松市中区 yes, 浜松市天竜区 no)."""
        return name in self._former_by_name and name not in self._by_name

    def former_names(self, code: str) -> list[str]:
        """The former names a place holds today (浜松市中央区 → 浜松市中区, 浜松市東区, …); never a split one."""
        return list(self._former_of.get(self.by_code(code).code, ()))

    def successors(self, name: str) -> list[Place]:
        """Every current place that took over part or all of a former name (浜松市北区 → 中央区 and 浜名区)."""
        codes = dict.fromkeys(c for f in self._former_by_name.get(name, ()) for c in f.successors)
        return [self._by_code[c] for c in codes if c in self._by_code]

    def _holder(self, former: FormerName) -> Place | None:
        """The one current place that took over a former place's whole area; None when it was split."""
        return self._by_code.get(former.successors[0]) if len(former.successors) == 1 else None

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
        cities = (
            [p for p in self.by_name(match["city"]) if p.prefecture == place.prefecture]
            if match
            else []
        )
        return cities[0] if cities else None


def _districts(rows: list[_Row]) -> dict[str, str]:
    return {
        full_code(r.city_code): m["district"]
        for r in rows
        if r.flag == "0" and (m := _DISTRICT_RE.fullmatch(r.name))
    }


@cache
def _load_default() -> Gazetteer:
    changes = read_changes()
    rows = _with_ward_centres(_apply(_read_rows(), changes))
    names = _prefecture_names()
    places: list[Place] = []
    for code, name in sorted(names.items()):
        own = [r for r in rows if r.pref_code == code]
        places.append(_prefecture(code, name, own))
        places.extend(_municipality(r, name) for r in own)
    return Gazetteer(places, _districts(rows), _former_names(changes, names))
