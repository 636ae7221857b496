"""Snapshots of the FAISS store: a consistent copy of the served commit point (pinned while it is copied, so
writes and merges go on) with every file's SHA-256, and a restore that checks the whole snapshot before it
installs it as a new commit point beside the index's own (the previous one stays, as after any write)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from common.errors import UserError
from indexer.stores import manifest
from indexer.stores.faiss import check, commit, layout
from indexer.write.lock import acquire

FORMAT = 1
INDEX_FILE = "snapshot.json"
COMMIT_DIR = "commit"
SEGMENTS_DIR = "segments"


class SnapshotTarget(UserError):
    """A snapshot destination that already holds something."""

    status, code, field = 409, "snapshot_exists", "dest"

    def __init__(self, dest: Path) -> None:
        super().__init__(
            f"スナップショットの保存先がすでにあります: {dest}（新しいフォルダを指定してください）",
            f"the snapshot destination already exists: {dest} (name a new folder)",
        )


class SnapshotDamaged(UserError):
    """A snapshot whose files do not match its own list: refused whole, nothing is installed."""

    status, code, field = 422, "snapshot_damaged", "src"

    def __init__(self, src: Path, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5})" if len(problems) > 5 else "")
        super().__init__(
            f"スナップショットが壊れているため復元しません（索引は変えていません）: {src}: {shown}",
            f"the snapshot is damaged and was not restored (the index is unchanged): {src}: {shown}",
        )


@dataclass(frozen=True)
class Snapshot:
    """What a snapshot holds: the commit point it copied, its size, and where it lies."""

    path: str
    commit_point: str
    articles: int
    chunks: int
    segments: int
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class Restored:
    """What a restore did: the commit point it came from and the one it installed."""

    index_dir: str
    snapshot_of: str
    generation: str
    previous: str | None
    articles: int
    chunks: int
    seconds: float


def _listing(root: Path) -> dict[str, dict]:
    """Every file of the snapshot folder but its own list and lock files, by size and SHA-256."""
    return check.file_digests(root, skip=(INDEX_FILE, layout.READERS, layout.BUILDING))


def take(index_dir: Path, dest: Path) -> Snapshot:
    """Copy the served commit point and its segments to `dest` (a new folder), written under a temporary name
    and renamed when complete, so a killed snapshot leaves no folder that looks whole."""
    began = time.perf_counter()
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SnapshotTarget(dest)
    index = layout.IndexDir(index_dir)
    for _ in range(5):  # the served commit point may be replaced and removed before it is pinned
        current = index.require_current()
        try:
            fd = layout.pin(current)
            break
        except FileNotFoundError:
            continue
    else:
        current = index.require_current()
        fd = layout.pin(current)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    try:
        info = manifest.read(current)
        tmp.mkdir(parents=True)
        shutil.copy2(current / manifest.FILE, _mkdir(tmp / COMMIT_DIR) / manifest.FILE)
        for entry in commit.entries_of(info):
            shutil.copytree(index.segments / entry.name, tmp / SEGMENTS_DIR / entry.name)
        files = _listing(tmp)
        (tmp / INDEX_FILE).write_text(
            json.dumps(
                {
                    "format": FORMAT,
                    "commit_point": current.name,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "files": files,
                },
                ensure_ascii=False,
                indent=1,
            ),
            "utf-8",
        )
        if dest.exists():
            dest.rmdir()
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        layout.unpin(fd)
    return Snapshot(
        str(dest),
        current.name,
        info.articles,
        info.chunks,
        len(info.segments),
        len(files),
        sum(f["size"] for f in files.values()),
        round(time.perf_counter() - began, 3),
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def verify(src: Path) -> tuple[dict, manifest.Manifest]:
    """The snapshot's own list and manifest, after checking every file against the list: a member missing,
    changed, truncated or added refuses the whole snapshot."""
    src = Path(src)
    try:
        listed = json.loads((src / INDEX_FILE).read_text("utf-8"))
        expected: dict[str, dict] = listed["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SnapshotDamaged(src, [f"{INDEX_FILE}: {exc}"]) from None
    if listed.get("format") != FORMAT:
        raise SnapshotDamaged(src, [f"{INDEX_FILE}: format {listed.get('format')!r}"])
    problems = []
    present = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if p.is_file() and p.name != INDEX_FILE
    }
    for name in sorted(present - set(expected)):
        problems.append(f"{name}: 一覧にない / not listed")
    for name, want in sorted(expected.items()):
        path = src / name
        if name not in present:
            problems.append(f"{name}: ない / missing")
        elif path.stat().st_size != want["size"]:
            problems.append(f"{name}: 大きさが違う / size {path.stat().st_size} != {want['size']}")
        elif check.sha256(path) != want["sha256"]:
            problems.append(f"{name}: SHA-256 が違う / checksum differs")
    if problems:
        raise SnapshotDamaged(src, problems)
    info = manifest.read(src / COMMIT_DIR)
    missing = [
        e.name for e in commit.entries_of(info) if not (src / SEGMENTS_DIR / e.name).is_dir()
    ]
    if missing:
        raise SnapshotDamaged(src, [f"segment {n}: ない / missing" for n in missing])
    return listed, info


def restore(src: Path, index_dir: Path, lock_timeout: float = 30) -> Restored:
    """Check the whole snapshot, then, under the writer lock, copy its segments into the index under new names
    and publish its commit point as the next one; a server on the index switches to it as to any write."""
    began = time.perf_counter()
    src = Path(src)
    listed, info = verify(src)
    index = layout.IndexDir(index_dir)
    lock = acquire(index.root, lock_timeout)
    try:
        layout.clean(index)
        previous = index.current()
        entries = []
        for entry in commit.entries_of(info):
            building = layout.Building(index.segments)
            try:
                shutil.copytree(src / SEGMENTS_DIR / entry.name, building.path, dirs_exist_ok=True)
                name = layout.segment_name(index.segments)
                building.finish(index.segments / name)
            except BaseException:
                building.discard()
                raise
            entries.append(replace(entry, name=name))
        name = commit.publish(index, replace(info, segments=[e.as_json() for e in entries]))
        layout.clean(index)
    finally:
        lock.release()
    return Restored(
        str(index.root),
        listed["commit_point"],
        name,
        previous.name if previous else None,
        info.articles,
        info.chunks,
        round(time.perf_counter() - began, 3),
    )
