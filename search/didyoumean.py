"""「もしかして」: when a query word has no posting in the index (so no answer can hold it: a weak answer), the
vocabulary term it most likely meant (same reading, else the nearest spelling by edit distance), offered only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from indexer.analysis import lexical
from indexer.analysis.normalize import lexical_form
from search.suggest import fold, reading

MIN_WORD = 2  # shorter words are left alone (one kana or kanji is too ambiguous to correct)
_RUNS = re.compile(r"[\u3041-\u309fー]+|[^\u3041-\u309f]+")
_PARTICLES = "(?:から|まで|より|の|を|に|で|と|は|が|へ|や|も)"
_EDGE_PARTICLES = re.compile(rf"^{_PARTICLES}*(.*?){_PARTICLES}*$")
_KANJI = re.compile(r"[\u3400-\u9fff々]")
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]")
_WORD_POS = frozenset(("名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞"))


@dataclass(frozen=True)
class Vocabulary:
    """The served index's terms and place names with their weights, by folded surface and by reading."""

    surfaces: dict[str, tuple[str, float]]  # folded surface → (term, weight)
    readings: dict[str, tuple[str, float]]  # folded reading → the heaviest term read so
    keys: dict[int, tuple[str, ...]]  # folded surfaces by length, for the edit distance
    reading_keys: dict[int, tuple[str, ...]]

    @classmethod
    def of(cls, words: Mapping[str, tuple[float, str]]) -> Vocabulary:
        surfaces: dict[str, tuple[str, float]] = {}
        readings: dict[str, tuple[str, float]] = {}
        for term, (weight, read) in words.items():
            for table, key in ((surfaces, fold(term)), (readings, read)):
                if key and (key not in table or table[key][1] < weight):
                    table[key] = (term, weight)
        return cls(surfaces, readings, _by_length(surfaces), _by_length(readings))


def _by_length(keys: Mapping[str, object]) -> dict[int, tuple[str, ...]]:
    """Keys grouped by length: an edit distance of at most d only needs the keys within d characters of length."""
    grouped: dict[int, list[str]] = {}
    for key in keys:
        grouped.setdefault(len(key), []).append(key)
    return {n: tuple(found) for n, found in grouped.items()}


def _near(key: str, keys: dict[int, tuple[str, ...]], limit: int) -> list[str]:
    return [k for n in range(len(key) - limit, len(key) + limit + 1) for k in keys.get(n, ())]


def query_words(query: str) -> list[tuple[int, int, str]]:
    """(start, end, word) in the query's lexical form: each run of hiragana as one word, its particles at either
    end left out (SudachiPy cuts kana written for kanji anywhere: う|さし) and none when it ends the kanji before
    it (okurigana: 減らす), and SudachiPy mode C content words of the rest."""
    norm = lexical_form(query)
    found: list[tuple[int, int, str]] = []
    for run in _RUNS.finditer(norm):
        if _is_hiragana(run.group()):
            core = _EDGE_PARTICLES.search(run.group())
            after_kanji = run.start() > 0 and _KANJI.match(norm[run.start() - 1]) is not None
            if after_kanji and core is not None and core.start(1) == 0:
                continue  # okurigana, a word's own ending: 減|らす, 使|いにくくなった
            if core is not None and core.group(1):
                found.append(
                    (run.start() + core.start(1), run.start() + core.end(1), core.group(1))
                )
            continue
        found += [
            (run.start() + m.begin(), run.start() + m.end(), m.surface())
            for m in lexical.morphemes(run.group())
            if m.part_of_speech()[0] in _WORD_POS and any(c.isalnum() for c in m.surface())
        ]
    return found


def _is_hiragana(text: str) -> bool:
    return all("\u3041" <= c <= "\u309f" or c == "ー" for c in text)


def _closest(word: str, vocabulary: Vocabulary) -> tuple[str, str] | None:
    """(term, reason) for an unknown word: a term read the same, else (not for a run of hiragana, which is as
    often grammar as a word) the nearest spelling or reading: edit distance (a swap of two neighbours counts 1) 1 up to four characters, 2 beyond,
    the heaviest of the nearest."""
    folded = fold(word)
    read = reading(word)
    for key in (folded, read):
        same = vocabulary.readings.get(key)
        if same is not None and fold(same[0]) != folded:
            return same[0], "reading"
    if _is_hiragana(word):
        return None
    limit = 1 if len(folded) <= 4 else 2
    best: tuple[int, float, str] | None = None
    for key, keys, table in (
        (folded, vocabulary.keys, vocabulary.surfaces),
        (read, vocabulary.reading_keys, vocabulary.readings),
    ):
        for found, distance, _ in process.extract(
            key, _near(key, keys, limit), scorer=OSA.distance, score_cutoff=limit, limit=None
        ):
            term, weight = table[found]
            if fold(term) == folded:
                continue
            if best is None or (distance, -weight) < (best[0], -best[1]):
                best = (int(distance), weight, term)
    return (best[2], "spelling") if best is not None else None


def did_you_mean(
    query: str,
    known: Callable[[list[str]], Mapping[str, int]],
    vocabulary: Callable[[], Vocabulary | None],
) -> dict | None:
    """The query with its first unknown word (two characters or more, no posting in the index: `known` gives the
    document frequencies) replaced by the term it most likely meant; None when every word is in the index, the
    query has no Japanese (English fuses mostly on meaning), or no term is close."""
    if not any(_JAPANESE.match(c) for c in query):
        return None
    words = [w for w in query_words(query) if len(w[2]) >= MIN_WORD]
    if not words:
        return None
    df = known([w for _, _, w in words])
    unknown = [w for w in words if not df.get(w[2], 0)]
    terms = vocabulary() if unknown else None
    if terms is None:
        return None
    norm = lexical_form(query)
    shown = (
        query if len(norm) == len(query) else norm
    )  # the query as typed where offsets agree (LINE, not line)
    for start, end, word in unknown:
        found = _closest(word, terms)
        if found is not None:
            term, reason = found
            if term.isascii() and shown[start:end].isupper():
                term = term.upper()  # the index keeps Latin words lower-cased: BRP → BPR, not bpr
            return {
                "text": shown[:start] + term + shown[end:],
                "reason": reason,
                "word": word,
                "term": term,
            }
    return None
