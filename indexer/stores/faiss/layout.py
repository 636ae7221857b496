"""The index directory: immutable segments, commit points (folders `generations/gNNNNNN`) listing them, a `current` link switched
atomically, a writer lock."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from common.errors import UserError
from indexer.write.lock import WriterBusy as WriterBusy
from indexer.write.lock import acquire as acquire_lock
from indexer.write.lock import cache_dir, writer_lock

GENERATIONS = "generations"
SEGMENTS = "segments"
BUILDING = ".building"
CURRENT = "current"
KEEP = 2
READERS = ".readers"


class IndexMissing(UserError):
    """No index has been built in this directory yet."""

    status, code = 503, "index_missing"

    def __init__(self, root: Path) -> None:
        super().__init__(
            f"索引がありません: {root}。先に `jsearch index` で作成してください",
            f"no index at {root}; build one first with `jsearch index`",
        )


@dataclass(frozen=True)
class IndexDir:
    """Paths inside one index directory."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))  # a str is accepted too

    @property
    def generations(self) -> Path:
        return self.root / GENERATIONS

    @property
    def segments(self) -> Path:
        return self.root / SEGMENTS

    @property
    def cache(self) -> Path:
        return cache_dir(self.root)

    def current(self) -> Path | None:
        """The commit point being served, or None before the first build."""
        link = self.root / CURRENT
        if not link.is_symlink():
            return None
        target = self.root / os.readlink(link)
        return target if target.is_dir() else None

    def require_current(self) -> Path:
        current = self.current()
        if current is None:
            raise IndexMissing(self.root)
        return current

    def lock(self, timeout: float = 0) -> FileLock:
        """The writer lock; acquiring it fails with WriterBusy after `timeout` seconds."""
        return writer_lock(self.root, timeout)


def acquire(index: IndexDir, timeout: float) -> FileLock:
    """Take the writer lock or raise WriterBusy."""
    return acquire_lock(index.root, timeout)


class Building:
    """A temporary directory being written, locked so that `clean` in another process leaves it alone;
    the lock dies with the process, so a killed build's leftovers are removed by the next clean."""

    def __init__(self, parent: Path) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        name = f".tmp-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        self.path = parent / name
        self.path.mkdir()
        self._fd: int | None = os.open(self.path / BUILDING, os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def finish(self, final: Path) -> Path:
        """Make the files durable and give the directory its final name."""
        (self.path / BUILDING).unlink()
        _fsync_tree(self.path)
        self.path.rename(final)
        _fsync_dir(final.parent)
        self.path = final
        self.release()
        return final

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def new_generation(index: IndexDir) -> Path:
    """A fresh temporary directory for the next commit point, beside the served ones."""
    index.generations.mkdir(parents=True, exist_ok=True)
    name = f".tmp-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    path = index.generations / name
    path.mkdir()
    return path


def next_name(parent: Path, prefix: str) -> str:
    """Names sort in creation order: g000001, g000002, … (s000001 … for segments)."""
    names = [p.name for p in parent.glob(f"{prefix}*")] if parent.is_dir() else []
    return f"{prefix}{max((int(n[1:7]) for n in names if n[1:7].isdigit()), default=0) + 1:06d}"


def segment_name(parent: Path) -> str:
    """A segment name never used before in this index, even when the newest segment was dropped and removed
    (readers cache open segments by name): the next number plus a random tag, s000007-9f3a1c."""
    return f"{next_name(parent, 's')}-{os.urandom(3).hex()}"


def _fsync_tree(path: Path) -> None:
    for file in sorted(path.rglob("*")):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index: IndexDir, tmp: Path, generation: str) -> Path:
    """Make a finished commit point durable, then switch `current` to it in one rename."""
    _fsync_tree(tmp)
    final = index.generations / generation
    tmp.rename(final)
    _fsync_dir(index.generations)
    link_tmp = index.root / f".{CURRENT}.{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(Path(GENERATIONS) / generation)
    os.replace(link_tmp, index.root / CURRENT)
    _fsync_dir(index.root)
    return final


def pin(generation: Path) -> int:
    """A shared lock on the commit point's reader file, held by every process that serves it.

    `clean` never deletes a pinned commit point; the lock dies with the process, kill -9 included.
    Raises FileNotFoundError when the commit point was removed before it could be pinned.
    """
    fd = os.open(generation / READERS, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def unpin(fd: int) -> None:
    os.close(fd)  # closing the descriptor drops the lock


def mark_readable(generation: Path) -> None:
    """The reader file readers pin (written before the commit point is published)."""
    (generation / READERS).touch()


def _remove_unpinned(path: Path) -> bool:
    """Delete a commit point unless a reader pins it; True if it was deleted."""
    try:
        fd = os.open(path / READERS, os.O_RDONLY)
    except FileNotFoundError:
        shutil.rmtree(
            path, ignore_errors=True
        )  # a commit point from before pins: nobody can hold it
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    try:
        shutil.rmtree(path, ignore_errors=True)
    finally:
        os.close(fd)
    return True


def _abandoned(path: Path) -> bool:
    """A temporary directory whose builder is gone (its lock is free) or that never had one."""
    try:
        fd = os.open(path / BUILDING, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _remove_stale(parent: Path) -> list[Path]:
    stale = (
        [p for p in parent.iterdir() if p.name.startswith(".tmp-") and _abandoned(p)]
        if parent.is_dir()
        else []
    )
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def referenced_segments(index: IndexDir) -> set[str]:
    """Segments listed by any commit point still on disk (served, kept or pinned)."""
    import json

    names: set[str] = set()
    for commit in index.generations.glob("g*"):
        try:
            data = json.loads((commit / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        names.update(s["name"] for s in data.get("segments", []))
    return names


def clean(index: IndexDir, keep: int = KEEP) -> list[Path]:
    """Remove unfinished builds, all but the newest `keep` commit points, and segments no remaining commit
    point lists; never the served one, nor one that a reader in any process still pins."""
    if not index.generations.is_dir():
        return []
    current = index.current()
    finished = sorted(
        p for p in index.generations.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    old = [p for p in finished[:-keep] if p != current] if keep else []
    removed = _remove_stale(index.generations) + _remove_stale(index.segments)
    removed += [p for p in old if _remove_unpinned(p)]
    if index.segments.is_dir():
        listed = referenced_segments(index)
        unused = [
            p for p in index.segments.iterdir() if p.name.startswith("s") and p.name not in listed
        ]
        for path in unused:
            shutil.rmtree(path, ignore_errors=True)
        removed += unused
    for link in index.root.glob(f".{CURRENT}.*"):  # a switch killed between its two steps
        link.unlink(missing_ok=True)
    return removed
