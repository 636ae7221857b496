"""Verify an index directory: the served commit point and every segment it lists present, intact and consistent."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.stores import manifest
from indexer.stores.faiss import layout, metadb, postings, vectors

SEGMENT_INFO = "segment.json"
SKIP = (manifest.FILE, layout.READERS, SEGMENT_INFO, layout.BUILDING)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file of a commit point."""

    generation: str
    file: str
    ja: str
    en: str


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(directory: Path, skip: tuple[str, ...] = SKIP) -> dict[str, dict]:
    """Size and SHA-256 of every file under `directory` but those named in `skip` (by default what a commit
    point's manifest records: every file but the manifest, the segment info and the lock files)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name not in skip)
    return {
        p.relative_to(directory).as_posix(): {"size": p.stat().st_size, "sha256": sha256(p)}
        for p in files
    }


def _digest_problems(directory: Path, recorded: dict[str, dict]) -> list[Problem]:
    problems = []
    for name, expected in recorded.items():
        path = directory / name
        if not path.is_file():
            problems.append(
                Problem(directory.name, name, "ファイルがありません", "the file is missing")
            )
        elif path.stat().st_size != expected["size"] or sha256(path) != expected["sha256"]:
            problems.append(
                Problem(
                    directory.name,
                    name,
                    "ファイルが壊れています（内容が記録と違います）",
                    "the file is damaged (its content differs from the manifest)",
                )
            )
    return problems


def _consistency(directory: Path, rows: int) -> list[Problem]:
    """Open each store of a segment and compare its row count with the recorded one."""
    problems: list[Problem] = []
    checks = (
        (metadb.FILE, lambda: _sqlite_chunks(directory)),
        (vectors.FILE, lambda: int(vectors.load(directory).ntotal)),
        ("lexical", lambda: postings.load(directory / "lexical").size),
    )
    for name, count in checks:
        try:
            found = count()
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            problems.append(
                Problem(directory.name, name, f"開けません: {exc}", f"cannot be opened: {exc}")
            )
            continue
        if found != rows:
            problems.append(
                Problem(
                    directory.name,
                    name,
                    f"文章数が合いません（{found}、記録は {rows}）",
                    f"holds {found} passages, the record says {rows}",
                )
            )
    return problems


def verify_segment(directory: Path, rows: int) -> list[Problem]:
    """Everything wrong with one segment: missing or altered files, stores that disagree on the row count."""
    try:
        info = json.loads((directory / SEGMENT_INFO).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        return [
            Problem(directory.name, SEGMENT_INFO, f"読めません: {exc}", f"cannot be read: {exc}")
        ]
    return _digest_problems(directory, info.get("files", {})) + _consistency(directory, rows)


def _sqlite_chunks(directory: Path) -> int:
    conn = metadb.open_readonly(directory)
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(verdict)
        return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    finally:
        conn.close()


def verify(directory: Path, index: layout.IndexDir) -> list[Problem]:
    """Everything wrong with one commit point and the segments it lists; empty when it can be served."""
    try:
        info = manifest.read(directory)
    except manifest.IndexMismatch as exc:
        return [Problem(directory.name, manifest.FILE, exc.ja, exc.en)]
    problems = _digest_problems(directory, info.files)
    for entry in info.segments:
        problems += verify_segment(index.segments / entry["name"], int(entry["rows"]))
    return problems


def report(index: layout.IndexDir) -> dict:
    """`jsearch check`: the served commit point's problems and which older one could replace it."""
    current = index.require_current()
    problems = verify(current, index)
    older = sorted(
        (
            p
            for p in index.generations.iterdir()
            if p.is_dir() and p.name.startswith("g") and p.name < current.name
        ),
        reverse=True,
    )
    fallback = next((p.name for p in older if not verify(p, index)), None) if problems else None
    manifest_ok = not any(p.file == manifest.FILE for p in problems)
    listed = {e["name"] for e in manifest.read(current).segments} if manifest_ok else set()
    damaged = {p.generation for p in problems} & listed
    mark(index, problems, listed)
    in_place = manifest_ok and all(articles_readable(index.segments / n) for n in damaged)
    repair = None if not problems else current.name if in_place else fallback
    return {
        "index_dir": str(index.root),
        "generation": current.name,
        "ok": not problems,
        "problems": [asdict(p) for p in problems],
        "repair_from": repair,
    }


MARKS = ".damaged.json"


def looks_damaged(directory: Path) -> bool:
    """A cheap look at one segment (every recorded file present with its size), done on every write; `verify`
    compares contents."""
    try:
        info = json.loads((directory / SEGMENT_INFO).read_text("utf-8"))
        return any(
            (directory / n).stat().st_size != f["size"] for n, f in info.get("files", {}).items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return True


def articles_readable(directory: Path) -> bool:
    """Whether a segment's SQLite file is intact, so that its articles can be rewritten elsewhere."""
    try:
        info = json.loads((directory / SEGMENT_INFO).read_text("utf-8"))
        return (
            not _digest_problems(directory, {metadb.FILE: info["files"][metadb.FILE]})
            and _sqlite_chunks(directory) >= 0
        )
    except (OSError, ValueError, KeyError, TypeError, sqlite3.DatabaseError):
        return False


def marked(index: layout.IndexDir) -> set[str]:
    """Segments that the last `jsearch check` found damaged (the next write rewrites them)."""
    try:
        return set(json.loads((index.root / MARKS).read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return set()


def mark(index: layout.IndexDir, problems: list[Problem], segments: set[str]) -> None:
    """Record the damaged segments for the next write; atomically, and nothing when all is well."""
    names = sorted({p.generation for p in problems} & segments)
    path = index.root / MARKS
    if not names:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(names), "utf-8")
    tmp.replace(path)
