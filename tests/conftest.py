"""Shared fixtures: the real model, the real gazetteer and an index of the bundled corpus, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.bundled import bundled_corpus_dir
from corpus.loaders import load_paths


@pytest.fixture(scope="session")
def embedder():
    from indexer.model.base import Embedder

    return Embedder.load()


@pytest.fixture(scope="session")
def gazetteer():
    from indexer.places.gazetteer import Gazetteer

    return Gazetteer.load()


@pytest.fixture(scope="session")
def bundled_articles():
    return load_paths([bundled_corpus_dir()]).articles


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory, embedder, gazetteer, bundled_articles) -> Path:
    """An index directory of the five bundled articles; tests must not write to it."""
    from indexer.write import changes, indexing

    root = tmp_path_factory.mktemp("bundled-index")
    indexing.apply(
        root,
        changes.Change(upsert=bundled_articles, sources=(str(bundled_corpus_dir()),)),
        embedder,
    )
    return root


@pytest.fixture(scope="session")
def engine(bundled_index, embedder, gazetteer):
    from search.engine import Engine

    return Engine(bundled_index, embedder, gazetteer)
