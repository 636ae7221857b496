"""The readable Japanese listing of a search answer for the terminal."""

from __future__ import annotations

import textwrap


def _place(place: dict) -> str:
    if place["level"] == "prefecture":
        return place["name"]
    return f"{place['prefecture']} {place['name']}"


def _places(answer: dict) -> list[str]:
    lines = ["■ 自治体 / municipalities"]
    for i, place in enumerate(answer["municipalities"][:10], 1):
        lines.append(
            f"  {i:>2}. {_place(place)}（{place['code']}）根拠 {len(place['passage_ids'])} 件"
            f"  score {place['score']:.3f}"
        )
    return lines + (["  （該当なし）"] if not answer["municipalities"] else [])


def _passage(rank: int, passage: dict) -> list[str]:
    meta = " / ".join(x for x in (passage["source"], passage["published"]) if x)
    names = "、".join(_place(p) for p in passage["municipalities"] if p["role"] != "mention") or "—"
    body = textwrap.shorten(" ".join(passage["text"].split()), 160, placeholder="…")
    lines = [
        f"  {rank:>2}. [{passage['score']:.3f}] {passage['title']}"
        + (f"（{meta}）" if meta else ""),
        f"      自治体: {names}",
        f"      {body}",
    ]
    return lines + ([f"      {passage['url']}"] if passage["url"] else [])


def listing(answer: dict) -> str:
    """Places first, then passages, as a staff member reads them."""
    head = f"「{answer['query']}」の検索結果: {len(answer['passages'])} 件（{answer['took_ms']} ms、{answer['mode']}）"
    offer = answer.get("did_you_mean")
    meant = [f"もしかして / did you mean: {offer['text']}"] if offer else []
    lines = [head, *meant, ""] + _places(answer) + ["", "■ 文章 / passages"]
    for rank, passage in enumerate(answer["passages"], 1):
        lines += _passage(rank, passage)
    return "\n".join(lines)
