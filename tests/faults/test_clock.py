"""Clock jumps: which generation is served and which are cleaned never depends on wall-clock time or mtimes."""

from __future__ import annotations

import os
import time

from faultkit import town_article

from indexer.stores.faiss import layout
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes
from search.engine import Engine


def test_generations_order_by_name_whatever_the_clock_says(small_index, embedder, gazetteer):
    index = layout.IndexDir(small_index)
    engine = Engine(small_index, embedder, gazetteer)
    first = index.require_current()
    future, past = time.time() + 10 * 365 * 86400, 86400.0  # ten years ahead; 2 January 1970
    os.utime(first, (future, future))
    second = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(3),)), embedder, gazetteer
    )
    os.utime(index.generations / second.generation, (past, past))
    third = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(4),)), embedder, gazetteer
    )
    assert index.require_current().name == third.generation > second.generation > first.name
    assert engine.refresh() and engine.view.name == third.generation
    fourth = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(5),)), embedder, gazetteer
    )
    names = sorted(p.name for p in index.generations.glob("g*"))
    assert (
        names[-1] == fourth.generation and first.name not in names
    )  # the "newest" mtime was still cleaned
    assert (
        engine.refresh()
        and engine.search("第5号の電子申請サービス", 1)["passages"][0]["article_id"]
        == town_article(5).id
    )
