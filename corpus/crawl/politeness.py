"""One request at a time per host, at least the delay apart (process-wide, shared by every crawl pass)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}
_last: dict[str, float] = {}


@contextmanager
def turn(host: str, gap: float) -> Iterator[None]:
    """Hold the host's turn: wait for any other request to it, then until `gap` seconds after the last one ended."""
    with _guard:
        lock = _locks.setdefault(host, threading.Lock())
    with lock:
        wait = _last.get(host, float("-inf")) + gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            yield
        finally:
            _last[host] = time.monotonic()
