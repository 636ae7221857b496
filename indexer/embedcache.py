"""A cache of passage embeddings keyed by model, prompt and text, so unchanged chunks are never re-embedded."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


def embed_key(model: str, prompt: str, text: str) -> str:
    """The cache key of one passage text under one model and prompt."""
    return hashlib.sha1("\x00".join((model, prompt, text)).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors in a SQLite file beside the generations; safe to lose, never half-written.

    A damaged cache file is set aside (`*.damaged`) and started afresh: it only costs re-embedding.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError:
            self.conn = self._reset()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path)
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return conn

    def _reset(self) -> sqlite3.Connection:
        if getattr(self, "conn", None) is not None:
            self.conn.close()
        for suffix in ("", "-journal", "-wal"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.replace(Path(f"{self.path}{suffix}.damaged"))
        return self._open()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            return self._get_many(keys)
        except sqlite3.DatabaseError:
            self.conn = self._reset()
            return {}

    def _get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            marks = ",".join("?" * len(batch))
            for key, blob in self.conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                  [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self.conn.close()
