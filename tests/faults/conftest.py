"""Fault-suite fixtures: a small real index (real model, FAISS, SQLite, BM25) per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from faultkit import make_index


@pytest.fixture
def small_index(tmp_path, embedder, gazetteer) -> Path:
    return make_index(tmp_path / "index", embedder, gazetteer)
