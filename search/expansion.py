"""Query expansion: the words staff type, widened by the organisation's own synonym groups, SudachiDict's synonym
groups and its spelling variants; an added term counts less than the words typed (`ADDED_WEIGHT`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.analysis import lexical, thesaurus
from indexer.analysis.normalize import lexical_form

ADDED_WEIGHT = 0.5  # an added term's share of a typed word's weight, in BM25 and in word evidence
PER_WORD = 3  # dictionary synonyms kept per typed word: those the index holds most
MAX_ADDED = 12  # terms added to one query at most
MAX_SPAN = 3  # adjacent morphemes looked up together (マイナ + カード → マイナカード)
EXPAND_POS = frozenset(
    ("名詞",)
)  # a verb's variants are its inflections (使っ → 使う): nothing to add
ACRONYM = re.compile(r"[a-z]{2,5}")  # ai, dx, ict, rpa (lexical forms are lower case)


@dataclass(frozen=True)
class Expansion:
    """What a query adds: each typed stretch with its added terms, in query order (`terms` flattens them)."""

    added: tuple[tuple[str, tuple[str, ...]], ...] = ()
    terms: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, added: Sequence[tuple[str, Sequence[str]]]) -> Expansion:
        pairs = tuple((source, tuple(terms)) for source, terms in added if terms)
        flat = tuple(dict.fromkeys(t for _, terms in pairs for t in terms))
        return cls(pairs, flat)

    def alternates(self, word: str) -> tuple[str, ...]:
        """The added terms standing for a typed word (those of every stretch holding it)."""
        return tuple(
            dict.fromkeys(t for source, terms in self.added if word in source for t in terms)
        )


NONE = Expansion()


def _kana_only(word: str) -> bool:
    return all("HIRAGANA" in unicodedata.name(c, "") for c in word)


def same_word(typed: str, other: str) -> bool:
    """Whether a dictionary synonym is another form of the typed word rather than a neighbour in meaning: the typed
    word is an acronym and the other what it stands for, longer and not Latin (ai ~ 人工知能, rpa ~
    ロボティックプロセスオートメーション; line ~ 線 is no such pair), or the typed word has three letters or more,
    the other is not Latin where the typed one is not (都市 ~ city, データ ~ data add nothing) and they share a
    letter that is not a long-vowel mark (マイナカード ~ マイナンバーカード, スマホ ~ スマートフォン, オンライン申請 ~
    電子申請). Sudachi's groups without their flags also hold neighbours (決済 ~ 会計, 申請 ~ 申込 or 応募, 事例 ~
    例: two-letter words are the general ones) that change what a municipal text means; those are left to the
    organisation's own list."""
    if ACRONYM.fullmatch(typed):
        return len(other) > len(typed) and not other.isascii()
    if other.isascii() and not typed.isascii():
        return False
    letters = {c for c in typed if c.isalnum() and c != "ー"}
    return len(typed) >= 3 and bool(letters & set(other))


@dataclass(frozen=True)
class OwnGroups:
    """The own groups folded as the lexical index folds text, with each member's groups: worked out once per
    commit point, so a query looks up its substrings instead of scanning 10,000 groups."""

    groups: tuple[tuple[str, ...], ...] = ()
    members: dict[str, tuple[int, ...]] = field(default_factory=dict)
    longest: int = 0

    @classmethod
    def of(cls, groups: Iterable[Sequence[str]]) -> OwnGroups:
        folded = tuple(tuple(dict.fromkeys(lexical_form(w) for w in g)) for g in groups)
        members: dict[str, list[int]] = {}
        for i, group in enumerate(folded):
            for word in group:
                members.setdefault(word, []).append(i)
        longest = max((len(w) for w in members), default=0)
        return cls(folded, {w: tuple(ids) for w, ids in members.items()}, longest)


def own_terms(form: str, own: OwnGroups) -> list[tuple[str, list[str]]]:
    """For each own group with a member written in the query (lexical form), the group's other members."""
    typed: dict[int, str] = {}
    for start in range(len(form)):
        for end in range(start + 1, min(len(form), start + own.longest) + 1):
            for group in own.members.get(form[start:end], ()):
                if len(form[start:end]) > len(typed.get(group, "")):
                    typed[group] = form[start:end]
    return [
        (word, [m for m in own.groups[group] if m not in form])
        for group, word in sorted(typed.items())
    ]


def stretches(form: str) -> list[str]:
    """Content morphemes of the query and runs of up to `MAX_SPAN` adjacent ones (mode C, longest first)."""
    morphemes = lexical.morphemes(form)
    out: list[str] = []
    for size in range(MAX_SPAN, 0, -1):
        for i in range(len(morphemes) - size + 1):
            run = morphemes[i : i + size]
            if (
                run[0].part_of_speech()[0] in EXPAND_POS
                and run[-1].part_of_speech()[0] in EXPAND_POS
            ):
                text = "".join(m.surface() for m in run)
                if any(c.isalnum() for c in text):
                    out.append(text)
    return list(dict.fromkeys(out))


def dictionary_terms(
    form: str,
    table: Path,
    known: Callable[[list[str]], dict[str, int]],
    done: Sequence[str] = (),
) -> list[tuple[str, list[str]]]:
    """SudachiDict synonyms and spelling variants of the query's stretches that the index holds (document frequency
    above 0), the most frequent first, `PER_WORD` synonyms a stretch; a stretch inside a longer one already
    expanded is left alone (マイナカード, not カード), as is one inside a stretch of `done` (the own groups') and a
    single character (電申's 申 is no word of its own)."""
    candidates: list[tuple[str, list[str], list[str]]] = []
    for stretch in stretches(form):
        taken = [*done, *(c for c, _, _ in candidates)]
        if len(stretch) < 2 or any(stretch in longer for longer in taken):
            continue
        synonyms = [
            w
            for w in thesaurus.synonyms(stretch, table)
            if not _kana_only(w) and same_word(stretch, w)
        ]
        variants = [  # データ's variant data adds nothing the index would hold for its readers
            w for w in thesaurus.variants(stretch, table) if stretch.isascii() or not w.isascii()
        ]
        if synonyms or variants:
            candidates.append((stretch, synonyms, variants))
    df = known(list({w for _, s, v in candidates for w in s + v}))
    found = []
    for stretch, synonyms, variants in candidates:
        held = [w for w in variants if df.get(w, 0) > 0 and w not in form]
        ranked = sorted(
            (w for w in synonyms if df.get(w, 0) > 0 and w not in form), key=lambda w: -df[w]
        )
        found.append((stretch, list(dict.fromkeys(held + ranked[:PER_WORD]))))
    return found


def expand(
    query: str,
    own_groups: OwnGroups | Sequence[Sequence[str]],
    table: Path | None,
    known: Callable[[list[str]], dict[str, int]],
) -> Expansion:
    """The query's expansion: own groups first (always added: the organisation chose them), then the dictionary's
    synonyms and variants the index holds (none when `table` is None)."""
    form = lexical_form(query)
    own = own_groups if isinstance(own_groups, OwnGroups) else OwnGroups.of(own_groups)
    added = own_terms(form, own)
    if table is not None and any(
        not c.isascii() for c in form
    ):  # Latin-only: the dense side leads (0.9)
        added += dictionary_terms(form, table, known, [source for source, _ in added])
    kept, total = [], 0
    for source, terms in added:
        terms = [t for t in terms if t not in form][: max(0, MAX_ADDED - total)]
        total += len(terms)
        kept.append((source, terms))
    return Expansion.of(kept)


def lexical_extra(expansion: Expansion, typed: Iterable[str]) -> dict[str, float]:
    """The BM25 query terms the added terms bring (their bigrams and words, not single characters), each at
    `ADDED_WEIGHT`, leaving out what the typed words already hold."""
    have = set(typed)
    extra: dict[str, float] = {}
    for term in expansion.terms:
        for token in lexical.tokenize(term):
            if len(token) > 1 and token not in have:
                extra[token] = ADDED_WEIGHT
    return extra
