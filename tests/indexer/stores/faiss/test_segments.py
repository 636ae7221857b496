"""Segments: a ranking does not depend on how rows are spread over segments, deletions included; merges purge."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from corpus.article import Article
from indexer.stores import manifest
from indexer.stores.faiss import layout, merge
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes
from search.engine import Engine

QUERIES = [
    "窓口キャッシュレスの事例",
    "電子申請",
    "AIを活用した業務効率化",
    "マイナンバーカードの交付",
    "RPA 導入",
    "オンライン手続き",
    "how did cities introduce cashless payment",
]


def pieces(articles: list[Article], size: int = 6) -> list[Article]:
    """Real articles cut into smaller ones of `size` paragraphs each, so there are enough for 20 segments."""
    out = []
    for article in articles:
        blocks = [b for b in article.text.split("\n\n") if b.strip()]
        for k in range(0, len(blocks), size):
            text = "\n\n".join(blocks[k : k + size])
            out.append(
                Article(
                    f"{article.id}-{k // size}",
                    f"{article.title} {k // size}",
                    text,
                    article.source,
                    article.published,
                    article.url,
                    f"{article.path}#{k // size}",
                )
            )
    return out


def share_cache(root: Path, cache: Path) -> Path:
    """An index directory whose embedding and prepare caches are those of another (no embedding twice)."""
    root.mkdir(parents=True)
    (root / "cache").symlink_to(cache)
    return root


def ranking(engine: Engine, query: str, mode: str) -> list[tuple[str, float, float, float]]:
    answer = engine.search(query, k=20, mode=mode)
    return [
        (p["id"], p["score"], p["scores"]["dense"], p["scores"]["lexical"])
        for p in answer["passages"]
    ]


def raw_lexical(engine: Engine, query: str) -> dict[str, float]:
    """Unrounded BM25 scores by passage id (every row that scores)."""
    generation = engine.view
    scores = generation.search_lexical(query)
    rows = np.flatnonzero(scores > 0)
    chunks, _ = generation.fetch(rows)
    return {chunks[int(r)]["id"]: float(scores[r]) for r in rows}


def assert_same(one: Engine, many: Engine) -> None:
    for query in QUERIES:
        for mode in ("hybrid", "dense", "lexical"):
            a, b = ranking(one, query, mode), ranking(many, query, mode)
            assert [x[0] for x in a] == [x[0] for x in b], (query, mode)
            assert np.allclose([x[1:] for x in a], [x[1:] for x in b], atol=1e-6), (query, mode)
        la, lb = raw_lexical(one, query), raw_lexical(many, query)
        assert la.keys() == lb.keys()
        assert max(abs(la[i] - lb[i]) for i in la) <= 1e-6


@pytest.fixture(scope="module")
def spread(tmp_path_factory, embedder, gazetteer, bundled_articles):
    """The same live articles as one segment and as 20 segments with deleted and replaced articles."""
    articles = pieces(list(bundled_articles))
    assert len(articles) >= 25
    root = tmp_path_factory.mktemp("segments")
    decoys = [
        replace(a, id=f"{a.id}-old", text=a.text + "\n\n旧版の記述です。") for a in articles[:10]
    ]
    many = share_cache(root / "many", root / "cache")
    (root / "cache").mkdir()
    batches = [articles[i::20] for i in range(20)]
    for i, batch in enumerate(
        batches
    ):  # each write: its batch, a decoy deleted at the end, and an early
        extra = (
            tuple(decoys[i : i + 1]) if i < 10 else ()
        )  # version of the next batch's first article
        stale = (
            tuple(replace(a, text=a.text + "\n\n（差し替え前）") for a in batches[i + 1][:1])
            if i % 3 == 0 and i < 19
            else ()
        )
        faiss_writer.apply(
            many, changes.Change(upsert=tuple(batch) + extra + stale), embedder, gazetteer
        )
    faiss_writer.apply(
        many, changes.Change(remove=tuple(d.id for d in decoys)), embedder, gazetteer
    )
    one = share_cache(root / "one", root / "cache")
    faiss_writer.apply(one, changes.Change(upsert=tuple(articles)), embedder, gazetteer)
    return one, many, articles


def test_twenty_segments_with_deletions_rank_exactly_as_one(spread, embedder, gazetteer):
    one, many, articles = spread
    info = manifest.read(layout.IndexDir(many).require_current())
    assert len(info.segments) >= 20 and sum(len(s["deleted"]) for s in info.segments) >= 10
    assert (
        info.articles == len(articles)
        and manifest.read(layout.IndexDir(one).require_current()).articles == info.articles
    )
    assert_same(Engine(one, embedder, gazetteer), Engine(many, embedder, gazetteer))


def test_a_forced_merge_purges_deletions_and_changes_no_score(spread, embedder, gazetteer):
    one, many, _ = spread
    before = Engine(many, embedder, gazetteer)
    done = merge.maybe_merge(many, max_segments=1)
    assert done is not None and done.purged_rows > 0
    info = manifest.read(layout.IndexDir(many).require_current())
    assert len(info.segments) == 1 and not info.segments[0]["deleted"]
    after = Engine(many, embedder, gazetteer)
    assert_same(Engine(one, embedder, gazetteer), after)
    assert before.search("電子申請")["generation"] != after.search("電子申請")["generation"]


def test_a_rebuild_of_an_unchanged_corpus_prepares_nothing(spread, embedder, gazetteer):
    one, _, articles = spread
    report = faiss_writer.apply(
        one, changes.Change(upsert=tuple(articles), replace_all=True), embedder, gazetteer
    )
    assert (
        report.prepared_chunks == 0
        and report.embedded_chunks == 0
        and report.articles == len(articles)
    )


def test_the_policy_merges_a_full_tier_and_leaves_big_segments_alone():
    small = [merge.commit.Entry(f"s{i:06d}", 3, 1) for i in range(10)]
    big = merge.commit.Entry("s000100", 20_000, 20_000)
    assert merge.pick([big, *small[:9]]) == []
    assert sorted(merge.pick([big, *small])) == [e.name for e in small]
    worn = replace(big, deleted=tuple(f"a{i}" for i in range(8000)), deleted_rows=8000)
    assert merge.pick([worn, *small[:3]])[0] == "s000100"


def test_an_old_single_generation_index_is_refused_for_search_and_migrated_by_the_next_write(
    tmp_path, bundled_index, embedder, gazetteer
):
    import json
    import os
    import shutil

    from corpus.article import article_id
    from indexer.stores.faiss import metadb

    added = Article(
        article_id("migrate/1"),
        "ゆずりは町の取り組み",
        "ゆずりは町は電子申請サービスを始めた。",
        path="migrate/1",
    )

    index = layout.IndexDir(tmp_path / "old")
    old = index.generations / "g000001"
    old.mkdir(parents=True)
    served = layout.IndexDir(bundled_index)
    info = json.loads((served.require_current() / manifest.FILE).read_text("utf-8"))
    segment = served.segments / info["segments"][0]["name"]
    shutil.copy(
        segment / metadb.FILE, old / metadb.FILE
    )  # format 1 kept its SQLite, FAISS and bm25s files here
    (old / manifest.FILE).write_text(
        json.dumps({**info, "format_version": 1, "segments": []}), "utf-8"
    )
    (index.root / "current").symlink_to(os.path.join("generations", "g000001"))
    with pytest.raises(manifest.OldFormat) as refused:
        Engine(index.root, embedder, gazetteer)
    assert "jsearch index" in refused.value.ja and "migrate" in refused.value.en
    report = faiss_writer.apply(index.root, changes.Change(upsert=(added,)), embedder, gazetteer)
    assert report.articles == 6 and report.added == [added.id] and report.segments == 1
    engine = Engine(index.root, embedder, gazetteer)
    assert engine.search("宇佐市 窓口キャッシュレス", 3)["passages"][0]["title"]
    assert len(engine.view.article_ids()) == 6


def test_a_dropped_segment_name_is_not_reused_and_a_server_sees_the_new_one(
    tmp_path, embedder, gazetteer
):
    from corpus.article import article_id

    def town(i: int, what: str) -> Article:
        return Article(
            article_id(f"reuse/{i}"),
            f"{i}番町の取り組み",
            f"{i}番町は{what}を始めた。",
            path=f"reuse/{i}",
        )

    root = tmp_path / "ix"
    faiss_writer.apply(root, changes.Change(upsert=(town(1, "電子申請"),)), embedder, gazetteer)
    dropped = faiss_writer.apply(
        root, changes.Change(upsert=(town(2, "キャッシュレス決済"),)), embedder, gazetteer
    ).segment
    engine = Engine(root, embedder, gazetteer)
    for _ in range(3):  # the segment is dropped, then cleaned away once no commit point lists it
        faiss_writer.apply(
            root, changes.Change(remove=(town(2, "").id,)), embedder, gazetteer
        ) if town(2, "").id in engine.view.article_ids() else None
        faiss_writer.apply(root, changes.Change(upsert=(town(1, "電子申請"),)), embedder, gazetteer)
    added = faiss_writer.apply(
        root, changes.Change(upsert=(town(3, "オンライン予約"),)), embedder, gazetteer
    )
    assert added.segment != dropped
    engine.refresh()
    top = engine.search("3番町 オンライン予約", 1)["passages"][0]
    assert top["article_id"] == town(3, "").id and "オンライン予約" in top["text"]


def test_a_segment_written_before_words_were_stored_still_highlights_and_merges_with_words(
    tmp_path, embedder, gazetteer, bundled_articles
):
    import json
    import sqlite3

    from indexer.stores.faiss import check

    articles = list(bundled_articles)
    index = tmp_path / "index"
    faiss_writer.apply(index, changes.Change(upsert=tuple(articles[:2])), embedder, gazetteer)
    faiss_writer.apply(index, changes.Change(upsert=tuple(articles[2:3])), embedder, gazetteer)
    dirs = layout.IndexDir(index)
    old = dirs.segments / manifest.read(dirs.require_current()).segments[0]["name"]
    conn = sqlite3.connect(old / "meta.sqlite")  # as an index written by the previous version
    conn.execute("DROP TABLE words")
    conn.commit()
    conn.close()
    info = json.loads((old / check.SEGMENT_INFO).read_text("utf-8"))
    (old / check.SEGMENT_INFO).write_text(
        json.dumps({**info, "files": check.file_digests(old)}), "utf-8"
    )
    query = "窓口キャッシュレスの事例"
    before = Engine(index, embedder, gazetteer).search(query)
    assert any(p["highlights"] for p in before["passages"])
    assert merge.maybe_merge(index, max_segments=1) is not None
    merged = dirs.segments / manifest.read(dirs.require_current()).segments[0]["name"]
    with sqlite3.connect(merged / "meta.sqlite") as conn:
        assert (
            conn.execute("SELECT COUNT(*) FROM words").fetchone()
            == conn.execute("SELECT COUNT(*) FROM chunks").fetchone()
        )
    after = Engine(index, embedder, gazetteer).search(query)
    assert [(p["id"], p["highlights"]) for p in after["passages"]] == [
        (p["id"], p["highlights"]) for p in before["passages"]
    ]
