"""Rank municipalities by the evidence of the top passages."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from search.kinds import kind_of

ROLE_WEIGHT = {"subject": 1.0, "inherited": 0.6, "mention": 0.35}
OTHER_KIND = 0.5  # a place of another kind than the query asks for (a prefecture for 「…できる区」)


@dataclass
class _Tally:
    place: dict
    score: float = 0.0
    passage_ids: list[str] = field(default_factory=list)
    subject_count: int = 0


def evidence(score: float, rank: int, role: str) -> float:
    """One passage's support for a place: its score, discounted by rank, weighted by role."""
    return ROLE_WEIGHT.get(role, 0.0) * max(score, 0.0) / math.log2(rank + 2)


def role_in(place: dict, places: list[dict]) -> str:
    """A place's role as evidence: a prefecture beside one of its own municipalities in the same passage is
    context (大分県 over 宇佐市's case), weighed as a mention; it counts as subject only on its own."""
    if place["level"] != "prefecture" or place["role"] == "mention":
        return place["role"]
    inside = any(p["level"] == "municipality" and p["prefecture"] == place["name"] for p in places)
    return "mention" if inside else place["role"]


def rank_places(passages: list[dict], asked: frozenset[str] = frozenset()) -> list[dict]:
    """Places named by the passages (already in rank order), strongest evidence first; when the query asks for
    kinds of government (`search.kinds.asked_kinds`), places of other kinds weigh half."""
    tallies: dict[str, _Tally] = {}
    for rank, passage in enumerate(passages):
        for place in passage["municipalities"]:
            tally = tallies.setdefault(place["code"], _Tally({k: place[k] for k in _PLACE_KEYS}))
            role = role_in(place, passage["municipalities"])
            tally.score += evidence(passage["score"], rank, role)
            tally.subject_count += role == "subject"
            if passage["id"] not in tally.passage_ids:
                tally.passage_ids.append(passage["id"])
    for tally in tallies.values():
        tally.score *= OTHER_KIND if asked and kind_of(tally.place) not in asked else 1.0
    ranked = sorted(tallies.values(), key=_order)
    return [{**t.place, "score": round(t.score, 4), "passage_ids": t.passage_ids} for t in ranked]


def _order(tally: _Tally) -> tuple:
    """Strongest evidence first; on equal evidence, the place that was a passage's subject (a prefecture beside its
    own municipality counts as context there, as in `role_in`), then a municipality before a prefecture: the
    government that did the work leads the one that funds, hosts or locates it."""
    return (
        -tally.score,
        -tally.subject_count,
        tally.place["level"] == "prefecture",
        tally.place["code"],
    )


_PLACE_KEYS = ("code", "name", "prefecture", "level", "lat", "lon")
