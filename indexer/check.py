"""Verify an index directory: every file of the served generation present, intact and consistent."""
from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer import layout, lexical, manifest, store, vectors

SKIP = (manifest.FILE, layout.READERS)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file of a generation."""

    generation: str
    file: str
    ja: str
    en: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(directory: Path) -> dict[str, dict]:
    """Size and SHA-256 of every file of a generation (the manifest records them)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name not in SKIP)
    return {p.relative_to(directory).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}


def _digest_problems(directory: Path, recorded: dict[str, dict]) -> list[Problem]:
    problems = []
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            problems.append(Problem(directory.name, name, "ファイルがありません", "the file is missing"))
        elif path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            problems.append(Problem(directory.name, name, "ファイルが壊れています（内容が記録と違います）",
                                    "the file is damaged (its content differs from the manifest)"))
    return problems


def _consistency(directory: Path, info: manifest.Manifest) -> list[Problem]:
    """Open each store and compare its counts with the manifest."""
    problems: list[Problem] = []
    checks = (
        (store.FILE, lambda: _sqlite_chunks(directory)),
        (vectors.FILE, lambda: int(vectors.load(directory).ntotal)),
        ("lexical", lambda: int(lexical.load(directory / "lexical").scores["num_docs"])),
    )
    for name, count in checks:
        try:
            found = count()
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            problems.append(Problem(directory.name, name, f"開けません: {exc}", f"cannot be opened: {exc}"))
            continue
        if found != info.chunks:
            problems.append(Problem(directory.name, name, f"文章数が合いません（{found}、記録は {info.chunks}）",
                                    f"holds {found} passages, the manifest says {info.chunks}"))
    return problems


def _sqlite_chunks(directory: Path) -> int:
    conn = store.open_readonly(directory)
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(verdict)
        return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    finally:
        conn.close()


def verify(directory: Path) -> list[Problem]:
    """Everything wrong with one generation; empty when it can be served."""
    try:
        info = manifest.read(directory)
    except manifest.IndexMismatch as exc:
        return [Problem(directory.name, manifest.FILE, exc.ja, exc.en)]
    return _digest_problems(directory, info.files) + _consistency(directory, info)


def report(index: layout.IndexDir) -> dict:
    """`jsearch check`: the served generation's problems and which older generation could replace it."""
    current = index.require_current()
    problems = verify(current)
    older = sorted((p for p in index.generations.iterdir() if p.is_dir() and p.name.startswith("g")
                    and p.name < current.name), reverse=True)
    articles_lost = any(p.file in (store.FILE, manifest.FILE) for p in problems)
    fallback = next((p.name for p in older if not verify(p)), None) if articles_lost else None
    repair = None if not problems else fallback or (current.name if not articles_lost else None)
    return {"index_dir": str(index.root), "generation": current.name, "ok": not problems,
            "problems": [asdict(p) for p in problems], "repair_from": repair}
