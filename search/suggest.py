"""Suggestions as one types: a prefix (kana finds kanji through readings) → titles, headings, places, terms, past queries."""

from __future__ import annotations

import bisect
import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.analysis import lexical
from indexer.analysis.normalize import lexical_form
from indexer.stores.base import CommitView, Vocabulary

log = logging.getLogger("jsearch.suggest")

KINDS = ("title", "heading", "municipality", "term", "query")
# Score = the kind's bonus + log(1 + rows or searches behind it) + AT_START when the prefix starts the entry
# itself (not one of its later words). A place or a past query outranks a term of the same frequency; a title or
# heading (long, specific) comes after the words.
BONUS = np.array([0.5, 0.0, 2.0, 1.0, 2.0])
AT_START = 1.0
WORD_STARTS = 8  # words of a title or heading a prefix may start at (the first eight)
MAX_K = 20
_TERM_POS = frozenset(("名詞", "形状詞", "接頭辞", "接尾辞"))
_HIRAGANA = range(0x3041, 0x3097)
_LEADING = "■●◆◇□○・➡→#＃*-–—:：、。 \t"


def fold(text: str) -> str:
    """The form keys and prefixes are compared in: the lexical form with hiragana as katakana (まど → マド)."""
    return "".join(chr(ord(c) + 0x60) if ord(c) in _HIRAGANA else c for c in lexical_form(text))


@functools.lru_cache(maxsize=65_536)
def _analysed(text: str) -> tuple[tuple[int, str], ...]:
    """(start, reading from there on) at each of the first word starts of the text's lexical form."""
    norm = lexical_form(text)
    ms = [m for m in lexical.morphemes(norm) if m.surface().strip()]
    readings = [m.reading_form() if m.reading_form() else m.surface() for m in ms]
    starts = []
    for i, m in enumerate(ms):
        if m.part_of_speech()[0] in ("助詞", "助動詞", "補助記号", "空白"):
            continue
        starts.append((m.begin(), "".join(readings[i:])))
        if len(starts) == WORD_STARTS:
            break
    return tuple(starts)


def reading(text: str) -> str:
    """The folded reading of a whole text (its surface when SudachiPy has none)."""
    analysed = _analysed(text)
    return fold(analysed[0][1]) if analysed else fold(text)


def keys_of(text: str, every_word: bool) -> list[tuple[str, bool]]:
    """(folded key, starts the entry) for an entry: its surface and its reading, from its start and (titles,
    headings) from each later word start."""
    norm = lexical_form(text)
    analysed = _analysed(text)
    out = [(fold(norm), True)]
    for i, (start, read) in enumerate(analysed):
        first = i == 0
        if not first and not every_word:
            break
        out.append((fold(read), first))
        if not first:
            out.append((fold(norm[start:]), False))
    return [(k, s) for k, s in dict.fromkeys(out) if k]


@dataclass(frozen=True)
class Lexicon:
    """One source's entries (a segment's, or the past queries), prefix-searchable through sorted folded keys.
    The rows behind entry i (local rows, for counting live ones) are rows[indptr[i]:indptr[i + 1]]; an entry of a
    source without rows weighs `counts[i]`."""

    texts: tuple[str, ...]
    kinds: np.ndarray  # index into KINDS
    extra: tuple[dict | None, ...]
    indptr: np.ndarray
    rows: np.ndarray
    counts: np.ndarray
    keys: list[str]
    key_entry: np.ndarray
    key_start: np.ndarray

    def weights(self, live: np.ndarray | None) -> np.ndarray:
        """Each entry's weight in a commit point: its rows that are live (its count when it has no rows)."""
        if live is None or not len(self.rows):
            return self.counts
        alive = np.concatenate([[0], np.cumsum(live[self.rows], dtype=np.int64)])
        return (alive[self.indptr[1:]] - alive[self.indptr[:-1]]).astype(np.float64)


@dataclass(frozen=True)
class Entry:
    """A suggestable text before it is indexed: its kind, extra fields, and the rows behind it (or a count)."""

    text: str
    kind: str
    rows: Sequence[int] | np.ndarray = ()
    count: float = 0.0
    extra: dict | None = None


def lexicon(entries: Iterable[Entry]) -> Lexicon:
    """The sorted keys of the entries: surface and reading, every word start for titles and headings."""
    texts: list[str] = []
    kinds: list[int] = []
    extra: list[dict | None] = []
    indptr: list[int] = [0]
    rows: list[int] = []
    counts: list[float] = []
    pairs: list[tuple[str, int, bool]] = []
    for e in entries:
        index = len(texts)
        texts.append(e.text)
        kinds.append(KINDS.index(e.kind))
        extra.append(e.extra)
        rows.extend(e.rows)
        indptr.append(len(rows))
        counts.append(float(len(e.rows)) if len(e.rows) else e.count)
        every = e.kind in ("title", "heading")
        pairs += [(key, index, start) for key, start in keys_of(e.text, every)]
    pairs.sort()
    return Lexicon(
        tuple(texts),
        np.array(kinds, np.int8),
        tuple(extra),
        np.array(indptr, np.int64),
        np.array(rows, np.int64),
        np.array(counts, np.float64),
        [p[0] for p in pairs],
        np.array([p[1] for p in pairs], np.int64),
        np.array([p[2] for p in pairs], bool),
    )


def _display(text: str) -> str:
    """A heading or title as offered: one line, without the marks around it (■, ●, ➡, colons, spaces)."""
    line = " ".join(text.split())
    return line.strip(_LEADING) or line


def is_term(term: str) -> bool:
    """A lexical term worth offering: two characters or more, not only kana of grammar or digits, and one
    noun-like word (or a compound of them) to SudachiPy."""
    if len(term) < 2 or len(term) > 40 or not any(c.isalpha() for c in term):
        return False
    if all(ord(c) in _HIRAGANA for c in term):
        return False
    if term.isascii() and len(term) <= 2:
        return False  # a Latin bigram is nearly always the middle of a longer word (ch, ic)
    ms = lexical.morphemes(term)
    if len(ms) == 1:
        pos = ms[0].part_of_speech()
        if ms[0].surface() != term or pos[0] not in ("名詞", "形状詞"):
            return False
        if pos[1] in ("数詞", "非自立可能"):
            return False
        # two katakana letters are nearly always half of a longer word (シス, マイ), whatever SudachiPy reads
        return not (len(term) == 2 and all(map(_is_katakana, term)))
    return len(term) >= 3 and all(m.part_of_speech()[0] in _TERM_POS for m in ms)


def _is_katakana(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fc"


def segment_lexicon(vocabulary: Vocabulary) -> Lexicon:
    """A segment's entries: titles, headings, places (by code) and the terms of its postings worth offering."""
    by_title: dict[str, list[int]] = {}
    for title, row in vocabulary.titles:
        by_title.setdefault(_display(title), []).append(row)
    by_heading: dict[str, list[int]] = {}
    for heading, row in vocabulary.headings:
        by_heading.setdefault(_display(heading), []).append(row)
    by_place: dict[str, tuple[str, str, list[int]]] = {}
    for code, name, prefecture, row in vocabulary.places:
        by_place.setdefault(code, (name, prefecture, []))[2].append(row)
    indptr, rows = vocabulary.term_indptr, vocabulary.term_rows
    terms = [
        Entry(t, "term", rows[int(indptr[i]) : int(indptr[i + 1])])
        for i, t in enumerate(vocabulary.terms)
        if is_term(t)
    ]
    return lexicon(
        [
            *(Entry(t, "title", r) for t, r in by_title.items() if t),
            *(Entry(h, "heading", r) for h, r in by_heading.items() if h),
            *(
                Entry(name, "municipality", r, extra={"code": code, "prefecture": prefecture})
                for code, (name, prefecture, r) in by_place.items()
            ),
            *terms,
        ]
    )


def query_lexicon(queries: Iterable[tuple[str, int]]) -> Lexicon:
    """Past queries and how often each was searched."""
    return lexicon(Entry(q, "query", count=float(n)) for q, n in queries)


@dataclass(frozen=True)
class Scored:
    """A lexicon as one commit point weighs it: each entry's weight and each key's score (-inf: no live row)."""

    lexicon: Lexicon
    weights: np.ndarray
    key_scores: np.ndarray

    @classmethod
    def of(cls, lexicon: Lexicon, live: np.ndarray | None) -> Scored:
        weights = lexicon.weights(live)
        entry_scores = BONUS[lexicon.kinds] + np.log1p(weights)
        entry_scores[weights <= 0] = -np.inf
        scores = entry_scores[lexicon.key_entry] + AT_START * lexicon.key_start
        return cls(lexicon, weights, scores)

    def matches(self, prefix: str, depth: int) -> list[tuple[float, int]]:
        """(score, entry) of the best `depth` keys that start with the folded prefix."""
        keys = self.lexicon.keys
        lo = bisect.bisect_left(keys, prefix)
        hi = bisect.bisect_left(keys, prefix + "\U0010ffff", lo)
        if lo == hi:
            return []
        scores = self.key_scores[lo:hi]
        best = np.argpartition(-scores, depth)[:depth] if hi - lo > depth else np.arange(hi - lo)
        entries = self.lexicon.key_entry[lo:hi]
        return [(float(scores[i]), int(entries[i])) for i in best if scores[i] > -np.inf]


@dataclass(frozen=True)
class Suggestions:
    """The suggestable entries of one commit point: one scored lexicon per part (shared with other commit points
    while the part lives)."""

    name: str
    parts: tuple[Scored, ...]

    @functools.cached_property
    def words(self) -> dict[str, tuple[float, str]]:
        """Every live term and place name: its weight (rows) and its folded reading (「もしかして」's vocabulary)."""
        found: dict[str, float] = {}
        wanted = np.array([KINDS.index("term"), KINDS.index("municipality")])
        for part in self.parts:
            lex = part.lexicon
            for i in np.flatnonzero(np.isin(lex.kinds, wanted) & (part.weights > 0)):
                found[lex.texts[i]] = found.get(lex.texts[i], 0.0) + float(part.weights[i])
        return {t: (w, reading(t)) for t, w in found.items()}


def suggest(
    prefix: str, k: int, sources: Sequence[Scored], past: Scored | None = None
) -> list[dict]:
    """The `k` best entries whose surface or reading (or a later word's) starts with the prefix; one per text."""
    folded = fold(" ".join(prefix.split()))
    if not folded or k < 1:
        return []
    depth = 4 * k
    found: dict[tuple[str, int, str], list] = {}  # (text, kind, code) → [best score, weight, extra]
    for source in [*sources, *([past] if past is not None else [])]:
        lex = source.lexicon
        for score, entry in source.matches(folded, depth):
            extra = lex.extra[entry] or {}
            key = (lex.texts[entry], int(lex.kinds[entry]), extra.get("code", ""))
            seen = found.setdefault(key, [score, 0.0, extra])
            seen[0] = max(seen[0], score)
            seen[1] += float(source.weights[entry])
    ranked = sorted(
        found.items(), key=lambda item: (-item[1][0], -item[1][1], len(item[0][0]), item[0][0])
    )
    out: list[dict] = []
    texts: set[str] = set()
    for (text, kind, _), (score, _, extra) in ranked:
        if text in texts:
            continue  # one suggestion per text: the kind that scored best
        texts.add(text)
        out.append(
            {
                "text": text,
                "kind": KINDS[kind],
                "score": round(score, 4),
                "code": extra.get("code"),  # a municipality's; None for the other kinds
                "prefecture": extra.get("prefecture"),
            }
        )
        if len(out) == k:
            break
    return out


class Suggester:
    """The served commit point's suggestions, built per commit point off the request path and reusing each
    part's lexicon (segments never change): until a newer commit point's are built, the last ones answer."""

    def __init__(self, build: Callable[[Vocabulary], Lexicon] = segment_lexicon) -> None:
        self._build = build
        self._lexicons: dict[str, Lexicon] = {}
        self._current: Suggestions | None = None
        self._building: str | None = None
        self._failed: str | None = None  # a commit point whose build failed is not tried again
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)

    def prepare(self, view: CommitView) -> Suggestions | None:
        """Start building this commit point's suggestions in a background thread (unless built, under way or
        failed); the last built ones, maybe of an older commit point."""
        with self._lock:
            self._start(view)
            return self._current

    def _start(self, view: CommitView) -> None:
        current = self._current
        if current is not None and current.name == view.name:
            return
        if self._building is None and self._failed != view.name:
            self._building = view.name
            threading.Thread(
                target=self._run, args=(view,), name="jsearch-suggest", daemon=True
            ).start()

    def for_view(self, view: CommitView, wait: bool = False) -> Suggestions | None:
        """This commit point's suggestions; while they are built, the last ones (or, with none yet or `wait`,
        once they are built). The last ones, or None, when the build failed."""
        with self._lock:
            while True:
                self._start(view)
                current = self._current
                if current is not None and (current.name == view.name or not wait):
                    return current
                if self._building is None:  # failed (and logged)
                    return current
                self._ready.wait(timeout=60)

    def build(self, view: CommitView) -> Suggestions:
        """This commit point's suggestions now, each part's lexicon made once (kept while a commit point uses it)."""
        parts = view.vocabulary_parts()
        scored = []
        for part in parts:
            lex = self._lexicons.get(part.key)
            if lex is None:
                lex = self._build(part.read())
                self._lexicons[part.key] = lex
            scored.append(Scored.of(lex, part.live))
        keep = {p.key for p in parts}
        for key in [k for k in self._lexicons if k not in keep]:
            del self._lexicons[key]
        return Suggestions(view.name, tuple(scored))

    def _run(self, view: CommitView) -> None:
        built: Suggestions | None = None
        try:
            made = self.build(view)
            made.words  # noqa: B018 - 「もしかして」's vocabulary, made here too, off the request path
            built = made
        except Exception:  # noqa: BLE001 - a damaged part: keep the last suggestions, try again on the next view
            log.exception("候補を作れませんでした / could not build suggestions for %s", view.name)
        with self._lock:
            if built is not None:
                self._current = built
            else:
                self._failed = view.name
            self._building = None
            self._ready.notify_all()
