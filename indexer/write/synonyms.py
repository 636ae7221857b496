"""The organisation's own synonym groups: checked (limits, empty, duplicate or control characters refused with the
entry named), edited (add a group, remove a word) and committed with the index (`Store.set_synonyms`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from common.errors import UserError

MAX_GROUPS = 10_000
MAX_MEMBERS = 50
MAX_WORD = 64


class InvalidSynonyms(UserError):
    """A synonym list this product refuses: the message names the limit or the entry."""

    code, field = "invalid_synonyms", "groups"


def _word(word: object, where: str) -> str:
    if not isinstance(word, str):
        raise InvalidSynonyms(f"{where}: 語は文字列です", f"{where}: a word must be a string")
    text = " ".join(word.split())
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cf") for c in word.replace(" ", "")):
        raise InvalidSynonyms(
            f"{where}: 語に制御文字が含まれています",
            f"{where}: the word contains control characters",
        )
    if not text:
        raise InvalidSynonyms(f"{where}: 空の語があります", f"{where}: an empty word")
    if len(text) > MAX_WORD:
        raise InvalidSynonyms(
            f"{where}: 語が長すぎます（{len(text)} 文字、上限 {MAX_WORD}）",
            f"{where}: the word is too long ({len(text)} characters, at most {MAX_WORD})",
        )
    return text


def checked(groups: object) -> list[list[str]]:
    """The groups, words trimmed, or InvalidSynonyms naming the first bad entry: too many groups or members, a
    group of fewer than two words, an empty, overlong or control-character word, a word in two groups or twice in
    one."""
    if not isinstance(groups, list):
        raise InvalidSynonyms(
            "groups は語のリストのリストです", "groups must be a list of lists of words"
        )
    if len(groups) > MAX_GROUPS:
        raise InvalidSynonyms(
            f"同義語グループが多すぎます（{len(groups)} 件、上限 {MAX_GROUPS}）",
            f"too many synonym groups ({len(groups)}, at most {MAX_GROUPS})",
        )
    seen: dict[str, int] = {}
    out: list[list[str]] = []
    for i, group in enumerate(groups):
        where = f"groups[{i}]"
        if not isinstance(group, list) or not 2 <= len(group) <= MAX_MEMBERS:
            raise InvalidSynonyms(
                f"{where}: グループは 2〜{MAX_MEMBERS} 語のリストです",
                f"{where}: a group is a list of 2 to {MAX_MEMBERS} words",
            )
        words = [_word(w, f"{where}[{j}]") for j, w in enumerate(group)]
        for j, word in enumerate(words):
            key = unicodedata.normalize("NFKC", word).lower()
            if key in seen:
                raise InvalidSynonyms(
                    f"{where}[{j}]: 「{word}」が重複しています（groups[{seen[key]}] にもあります）",
                    f"{where}[{j}]: {word!r} is a duplicate (also in groups[{seen[key]}])",
                )
            seen[key] = i
        out.append(words)
    return out


def added(groups: Sequence[Sequence[str]], words: Sequence[str]) -> list[list[str]]:
    """The groups with these words as one group: groups already holding one of them are joined into it."""
    new = [_word(w, f"words[{i}]") for i, w in enumerate(words)]
    keys = {unicodedata.normalize("NFKC", w).lower() for w in new}
    joined, kept = list(new), []
    for group in groups:
        if keys & {unicodedata.normalize("NFKC", w).lower() for w in group}:
            joined += group
        else:
            kept.append(list(group))
    unique = list({unicodedata.normalize("NFKC", w).lower(): w for w in reversed(joined)}.values())[
        ::-1
    ]
    return checked([*kept, unique])


def removed(groups: Sequence[Sequence[str]], word: str) -> list[list[str]]:
    """The groups without this word; a group left with one word is dropped."""
    key = unicodedata.normalize("NFKC", _word(word, "word")).lower()
    out = [[w for w in g if unicodedata.normalize("NFKC", w).lower() != key] for g in groups]
    return [g for g in out if len(g) >= 2]
