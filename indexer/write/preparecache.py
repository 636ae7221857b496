"""A cache of prepared articles (passages, offsets, places, lexical token counts) keyed by their content and every
version that shapes them, so an unchanged article is never chunked, resolved or tokenised again."""

from __future__ import annotations

import hashlib
import pickle
import sqlite3

from corpus.article import Article
from indexer.analysis.prepare import Prepared
from indexer.write.blobcache import BlobCache


def prepare_key(article: Article, versions: str) -> str:
    """What decides an article's passages: its id, title, link and text, and the chunker/tokeniser/model versions."""
    parts = (versions, article.id, article.title, article.url, article.text)
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


class PrepareCache(BlobCache):
    """Pickled Prepared records in a SQLite file beside the embeddings; written only by this program, safe to lose.

    A damaged file is set aside (`*.damaged`) and started afresh: it only costs preparing the articles again.
    """

    table, column = "prepared", "item"
    unreadable = (
        sqlite3.DatabaseError,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        TypeError,
    )

    def decode(self, blob: bytes) -> Prepared:
        return pickle.loads(blob)

    def encode(self, value: Prepared) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
