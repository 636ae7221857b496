"""The writer lock of an index directory, and the folder of its caches: the same for every store."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from common.errors import UserError

LOCK_FILE = ".writer.lock"


class WriterBusy(UserError):
    """Another writer holds the index lock."""

    status, code = 409, "writer_busy"

    def __init__(self, root: Path) -> None:
        super().__init__(
            f"別の索引更新が実行中です: {root}。終わってから再実行してください",
            f"another index update is running on {root}; try again when it has finished",
        )


def writer_lock(root: Path, timeout: float = 0) -> FileLock:
    """The writer lock; acquiring it fails with WriterBusy after `timeout` seconds."""
    Path(root).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(root) / LOCK_FILE), timeout=timeout)


def acquire(root: Path, timeout: float) -> FileLock:
    """Take the writer lock or raise WriterBusy."""
    lock = writer_lock(root, timeout)
    try:
        lock.acquire()
    except Timeout:
        raise WriterBusy(Path(root)) from None
    return lock


def cache_dir(root: Path) -> Path:
    """Where the prepare and embedding caches of an index directory live (a killed write resumes from them)."""
    return Path(root) / "cache"
