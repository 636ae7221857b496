"""A cache of passage embeddings keyed by model, prompt and text, so unchanged chunks are never re-embedded."""

from __future__ import annotations

import hashlib

import numpy as np

from indexer.write.blobcache import BlobCache


def embed_key(model: str, prompt: str, text: str) -> str:
    """The cache key of one passage text under one model and prompt."""
    return hashlib.sha1("\x00".join((model, prompt, text)).encode("utf-8")).hexdigest()


class EmbeddingCache(BlobCache):
    """Vectors in a SQLite file beside the commit points; safe to lose, never half-written.

    A damaged cache file is set aside (`*.damaged`) and started afresh: it only costs re-embedding.
    """

    table, column = "vectors", "vec"

    def decode(self, blob: bytes) -> np.ndarray:
        return np.frombuffer(blob, dtype=np.float32)

    def encode(self, value: np.ndarray) -> bytes:
        return np.asarray(value, np.float32).tobytes()
