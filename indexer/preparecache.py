"""A cache of prepared articles (passages, offsets, places, lexical token counts) keyed by their content and every
version that shapes them, so an unchanged article is never chunked, resolved or tokenised again."""
from __future__ import annotations

import hashlib
import pickle
import sqlite3
from pathlib import Path
from typing import Sequence

from corpus.article import Article
from indexer.segment import Prepared


def prepare_key(article: Article, versions: str) -> str:
    """What decides an article's passages: its id, title, link and text, and the chunker/tokeniser/model versions."""
    parts = (versions, article.id, article.title, article.url, article.text)
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


class PrepareCache:
    """Pickled Prepared records in a SQLite file beside the embeddings; written only by this program, safe to lose.

    A damaged file is set aside (`*.damaged`) and started afresh: it only costs preparing the articles again.
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
        conn.execute("CREATE TABLE IF NOT EXISTS prepared (key TEXT PRIMARY KEY, item BLOB NOT NULL)")
        return conn

    def _reset(self) -> sqlite3.Connection:
        if getattr(self, "conn", None) is not None:
            self.conn.close()
        for suffix in ("", "-journal", "-wal"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.replace(Path(f"{self.path}{suffix}.damaged"))
        return self._open()

    def get_many(self, keys: Sequence[str]) -> dict[str, Prepared]:
        found: dict[str, Prepared] = {}
        try:
            for i in range(0, len(keys), 500):
                batch = list(keys[i:i + 500])
                rows = self.conn.execute(
                    f"SELECT key, item FROM prepared WHERE key IN ({','.join('?' * len(batch))})", batch)
                found.update((key, pickle.loads(blob)) for key, blob in rows)
        except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            self.conn = self._reset()
            return {}
        return found

    def put_many(self, items: dict[str, Prepared]) -> None:
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO prepared VALUES (?, ?)",
                                  [(k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, v in items.items()])

    def close(self) -> None:
        self.conn.close()
