"""One loaded index generation: FAISS, BM25 and SQLite opened together, never mixed with another."""
from __future__ import annotations

import sqlite3
import weakref
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss

from indexer import layout, lexical, manifest, vectors
from indexer.store import open_readonly


@dataclass(frozen=True)
class Generation:
    """The files of one generation, opened read-only."""

    path: Path
    manifest: manifest.Manifest
    dense: faiss.Index
    lexical: bm25s.BM25
    conn: sqlite3.Connection

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return int(self.dense.ntotal)


def load(path: Path) -> Generation:
    """Open a generation directory (its manifest is checked first) and pin it while it is referenced."""
    fd = _pin(path)
    try:
        generation = _open(path)
    except BaseException:
        layout.unpin(fd) if fd is not None else None
        raise
    if fd is not None:
        weakref.finalize(generation, layout.unpin, fd)
    return generation


def _pin(path: Path) -> int | None:
    try:
        return layout.pin(path)
    except FileNotFoundError:
        if not path.is_dir():
            raise
        return None  # built before pins existed: served as before, just not protected
    except PermissionError:
        return None


def _open(path: Path) -> Generation:
    info = manifest.read(path)
    if info.lexical_tokenizer != lexical.TOKENIZER:
        raise manifest.IndexMismatch(
            f"索引の語の区切り方（{info.lexical_tokenizer}）が古いです。jsearch index で作り直してください",
            f"the index was tokenised as {info.lexical_tokenizer}, not {lexical.TOKENIZER}; rebuild it with "
            "`jsearch index`")
    return Generation(path, info, vectors.load(path), lexical.load(path / "lexical"), open_readonly(path))
