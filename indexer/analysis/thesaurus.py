"""Words that mean the same in SudachiDict: its synonym groups and its spelling variants, as a SQLite table built
once per machine from the installed dictionary's entries (no download: the core dictionary carries the group ids
of the Sudachi synonym dictionary and each entry's normalised form)."""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from indexer.analysis import lexical
from indexer.analysis.normalize import lexical_form

TABLE_VERSION = 2  # 2: variants of nouns only (a verb's are its inflections: つくる, 作っ)
SYNONYM_POS = frozenset(("名詞",))  # 決済 ~ 精算 yes; the verb しはらう's inflections no
VARIANT_POS = frozenset(("名詞",))
_local = threading.local()
log = logging.getLogger(__name__)


def table_path(cache_dir: Path) -> Path:
    """Where the table of the installed SudachiDict lives (a new dictionary version builds a new one)."""
    return (
        cache_dir
        / "thesaurus"
        / f"sudachidict-core-{version('sudachidict-core')}-v{TABLE_VERSION}.sqlite"
    )


def _rows() -> Iterator[tuple[str, str, int | None, str]]:
    """(table, folded surface, group id or None, normalised form) of every dictionary entry worth keeping."""
    for m in lexical._dictionary().entries():
        pos = m.part_of_speech()[0]
        surface = lexical_form(m.surface())
        if pos in SYNONYM_POS:
            for group in m.synonym_group_ids():
                yield "synonyms", surface, group, ""
        if pos in VARIANT_POS:
            normalized = lexical_form(m.normalized_form())
            if normalized != surface:
                yield "variants", surface, None, normalized


def build(path: Path) -> Path:
    """Write the table (about 5 s on 2 cores): built beside, then renamed into place, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(
            "CREATE TABLE synonyms (surface TEXT NOT NULL, grp INTEGER NOT NULL);"
            "CREATE TABLE variants (surface TEXT NOT NULL, normalized TEXT NOT NULL);"
        )
        synonyms, variants = set(), set()
        for table, surface, group, normalized in _rows():
            if table == "synonyms":
                synonyms.add((surface, group))
            else:
                variants.add((surface, normalized))
        conn.executemany("INSERT INTO synonyms VALUES (?, ?)", sorted(synonyms))
        conn.executemany("INSERT INTO variants VALUES (?, ?)", sorted(variants))
        conn.executescript(
            "CREATE INDEX synonyms_surface ON synonyms(surface);"
            "CREATE INDEX synonyms_grp ON synonyms(grp);"
            "CREATE INDEX variants_surface ON variants(surface);"
            "CREATE INDEX variants_normalized ON variants(normalized);"
        )
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)
    return path


@functools.cache
def _ready(path: Path) -> Path:
    return path if path.exists() else build(path)


def ensure(path: Path) -> Path | None:
    """The table, built now if missing (once per machine and dictionary version); None where it cannot be
    written (a read-only cache): queries then widen by the own groups only."""
    try:
        return _ready(path)
    except OSError as exc:
        log.warning("同義語表を作れません / cannot build the thesaurus at %s: %s", path, exc)
        return None


def _conn(path: Path) -> sqlite3.Connection:
    """This thread's read-only connection to the table (built first if missing)."""
    key = f"thesaurus_{path}"
    conn = getattr(_local, key, None)
    if conn is None:
        conn = sqlite3.connect(f"file:{_ready(path)}?mode=ro", uri=True, check_same_thread=False)
        setattr(_local, key, conn)
    return conn


def synonyms(word: str, path: Path) -> list[str]:
    """Other nouns of the word's synonym groups (folded as the lexical index folds text), in dictionary order."""
    return list(_synonyms(lexical_form(word), path))


@functools.lru_cache(
    maxsize=65536
)  # the table never changes: a word looked up once is looked up for good
def _synonyms(form: str, path: Path) -> tuple[str, ...]:
    rows = _conn(path).execute(
        "SELECT DISTINCT b.surface FROM synonyms a JOIN synonyms b ON a.grp = b.grp "
        "WHERE a.surface = ? AND b.surface != ? ORDER BY b.grp, b.rowid",
        (form, form),
    )
    return tuple(r[0] for r in rows)


def groups_of(word: str, path: Path) -> int:
    """How many synonym groups the word belongs to (AI: five; an ambiguous word)."""
    row = (
        _conn(path)
        .execute(
            "SELECT COUNT(DISTINCT grp) FROM synonyms WHERE surface = ?", (lexical_form(word),)
        )
        .fetchone()
    )
    return int(row[0])


def variants(word: str, path: Path) -> list[str]:
    """Other spellings with the word's normalised form (子ども, こども, 子供; 問合せ, 問い合わせ), the form included."""
    return list(_variants(lexical_form(word), path))


@functools.lru_cache(maxsize=65536)
def _variants(form: str, path: Path) -> tuple[str, ...]:
    rows = _conn(path).execute(
        "SELECT normalized FROM variants WHERE surface = ? "
        "UNION SELECT surface FROM variants WHERE normalized IN "
        "(SELECT normalized FROM variants WHERE surface = ? UNION SELECT ?)",
        (form, form, form),
    )
    return tuple(sorted({r[0] for r in rows} - {form}))
