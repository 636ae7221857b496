"""The Milvus store on a real Milvus Lite with the real model: it answers as the FAISS store does, writes are visible
at once and all-or-nothing, a crashed write leaves only orphans the next write cleans, bad settings are refused
clearly, and the FAISS default needs none of the Milvus extras."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from milvuskit import ROOT, build_store, count, same, seeded_index_dir, without

from corpus.article import Article, article_id
from indexer.stores.base import Filters
from indexer.stores.milvus import check as milvus_check
from indexer.stores.milvus import client as mc
from indexer.stores.milvus import head as mh
from indexer.stores.milvus import writer as mw
from indexer.stores.spec import BadStore, parse
from indexer.write import changes, indexing
from search.engine import Engine

QUERIES = [
    ("窓口キャッシュレスの事例", "hybrid", Filters()),
    ("cashless payment at the municipal office counter", "hybrid", Filters()),
    ("オンライン会議の導入", "hybrid", Filters(prefecture="大分県")),
    ("窓口の混雑を減らす", "hybrid", Filters(municipality="442119")),
    ("デジタル化の取り組み", "hybrid", Filters(municipality="13204")),
    ("テレワークとセキュリティ", "hybrid", Filters(source="地方自治")),
    ("自治体DXの進め方", "hybrid", Filters(date_from="2021-01-01", date_to="2022-12-31")),
    ("電子申請 マイナンバーカード", "lexical", Filters()),
    ("住民サービスのデジタル化", "dense", Filters(prefecture="東京都")),
]

NEW_ID = article_id("milvus-test/yuzuriha")
NEW = Article(
    NEW_ID,
    "ゆずりは町の電子申請ポータル",
    "ゆずりは町の電子申請ポータル\n\nゆずりは町では住民票の写しの電子申請ポータルを開設し、窓口に来なくても"
    "手続きが済むようにした。三鷹市の取り組みを参考に、オンライン決済にも対応した。\n",
    source="テスト通信",
    published="2024-05-01",
    url="https://example.invalid/yuzuriha",
    path="milvus-test/yuzuriha",
)
NEW_QUERY = "ゆずりは町の電子申請ポータル"
CRASH_ID = article_id("milvus-test/kamiyama")


def crash_article(version: int) -> Article:
    body = {
        1: "かみやま村は粗大ごみの収集予約をチャットボットで受け付け始めた。電話の件数は半分になった。",
        2: "かみやま村は粗大ごみの収集予約をLINEの公式アカウントに移した。予約の取り消しもできる。"
        "さらに手数料のキャッシュレス決済に対応した。",
    }[version]
    return Article(
        CRASH_ID,
        f"かみやま村の粗大ごみ予約（第{version}版）",
        f"かみやま村の粗大ごみ予約\n\n{body}\n",
        source="テスト通信",
        published="2024-06-01",
        path="milvus-test/kamiyama",
    )


class Crash(RuntimeError):
    """The simulated death of a writer (power loss, kill -9) at one point of a write."""


# ---------------------------------------------------------------- stores, built once per module


@pytest.fixture(scope="module")
def read_store(tmp_path_factory, bundled_index, embedder, bundled_articles):
    """The bundled corpus in a Milvus Lite store that no test writes to: (spec, local index dir)."""
    root = tmp_path_factory.mktemp("milvus-read")
    spec = parse(f"milvus:{root}/s.db")
    ix = seeded_index_dir(root / "ix", bundled_index)
    report = build_store(spec, ix, embedder, bundled_articles)
    assert report.articles == len(bundled_articles) and report.generation == "milvus-000001"
    return spec, ix


@pytest.fixture(scope="module")
def milvus_engine(read_store, embedder, gazetteer):
    spec, ix = read_store
    return Engine(ix, embedder, gazetteer, store=spec)


@pytest.fixture(scope="module")
def write_store(tmp_path_factory, bundled_index, embedder, bundled_articles):
    """Another store of the bundled corpus, for the write tests; each leaves it with the bundled articles only."""
    root = tmp_path_factory.mktemp("milvus-write")
    spec = parse(f"milvus:{root}/w.db")
    ix = seeded_index_dir(root / "ix", bundled_index)
    build_store(spec, ix, embedder, bundled_articles)
    return spec, ix


def head_of(spec) -> mh.Head:
    return mh.read(mc.connect(spec), mc.names(spec))


def physical(spec) -> dict[str, int]:
    """Rows of each collection, visible or not (what a crash could leave behind). Term rows are one per term, read
    by key: a crashed write's values stay there and readers take their `before`."""
    client, n = mc.connect(spec), mc.names(spec)
    head = mh.read(client, n)
    return {
        "articles": count(client, n.articles),
        "chunks": count(client, head.chunks),
        "terms": count(client, head.terms),
        "newer": count(client, n.articles, f"commit > {head.commit}")
        + count(client, head.chunks, f"commit > {head.commit}"),
    }


def passage_ids(answer: dict) -> list[str]:
    return [p["id"] for p in answer["passages"]]


# ---------------------------------------------------------------- the same answers as FAISS


@pytest.mark.parametrize(
    "query, mode, filters", QUERIES, ids=[f"{q[:12]}-{m}-{f}" for q, m, f in QUERIES]
)
def test_milvus_answers_as_faiss_does(engine, milvus_engine, query, mode, filters):
    faiss = engine.search(query, 10, mode, filters)
    milvus = milvus_engine.search(query, 10, mode, filters)
    assert passage_ids(milvus) == passage_ids(faiss)
    assert faiss["passages"], "a query that finds nothing proves little"
    for a, b in zip(faiss["passages"], milvus["passages"]):
        assert abs(a["score"] - b["score"]) < 1e-3, (a["id"], a["score"], b["score"])
    same(faiss["municipalities"], milvus["municipalities"])
    same(faiss["facets"], milvus["facets"])
    same(without(faiss), without(milvus))  # the passages' texts, highlights and places too
    assert milvus["generation"] == "milvus-000001"


def test_filters_narrow_alike(engine, milvus_engine):
    """The filtered queries above do filter (else equality would prove little)."""
    every = milvus_engine.search("窓口の混雑を減らす", 50)
    only = milvus_engine.search("窓口の混雑を減らす", 50, filters=Filters(municipality="442119"))
    assert 0 < len(only["passages"]) < len(every["passages"])
    assert all(any(m["code"][:5] == "44211" for m in p["municipalities"]) for p in only["passages"])
    dated = milvus_engine.search(
        "自治体DXの進め方", 50, filters=Filters(date_from="2021-01-01", date_to="2022-12-31")
    )
    assert dated["passages"] and all(
        "2021-01-01" <= p["published"] <= "2022-12-31" for p in dated["passages"]
    )


def test_place_page_and_similar_as_faiss(engine, milvus_engine):
    faiss, milvus = engine.place_page("442119"), milvus_engine.place_page("442119")
    assert faiss["total"] > 0 and passage_ids(milvus) == passage_ids(faiss)
    same(faiss, milvus)
    second = (
        engine.place_page("132047", limit=5, offset=1),
        milvus_engine.place_page("132047", limit=5, offset=1),
    )
    same(*second)
    searched = milvus_engine.search("窓口キャッシュレスの事例", 1)["passages"][0][
        "id"
    ]  # its row is cached, no vector
    for pid in (faiss["passages"][0]["id"], searched):
        a, b = engine.similar(pid, 10), milvus_engine.similar(pid, 10)
        assert a["passages"] and passage_ids(b) == passage_ids(a)
        same(without(a), without(b))


def test_articles_and_counts_as_faiss(engine, milvus_engine):
    f, m = engine.view, milvus_engine.view
    assert (m.manifest.articles, m.manifest.chunks) == (f.manifest.articles, f.manifest.chunks)
    assert (m.manifest.model, m.manifest.dimension) == (f.manifest.model, f.manifest.dimension)
    columns = ("id", "title", "source", "published", "url", "chunks")
    for offset, limit in ((0, 50), (1, 2), (4, 10)):
        page = [{c: r[c] for c in columns} for r in m.articles_page(columns, offset, limit)]
        assert page == [{c: r[c] for c in columns} for r in f.articles_page(columns, offset, limit)]
    assert m.article_ids() == f.article_ids()


# ---------------------------------------------------------------- writes: visible at once, all of them


def test_add_update_remove_are_visible_at_once(write_store, embedder, gazetteer):
    spec, ix = write_store
    served = Engine(ix, embedder, gazetteer, store=spec)
    before = served.view.manifest
    baseline = served.search(NEW_QUERY, 10)
    assert NEW_ID not in {p["article_id"] for p in baseline["passages"]}

    added = indexing.apply(ix, changes.Change(upsert=(NEW,)), embedder, spec)
    assert (
        added.added == [NEW_ID]
        and added.articles == before.articles + 1
        and added.embedded_chunks > 0
    )
    for engine in (Engine(ix, embedder, gazetteer, store=spec), served):
        if engine is served:
            assert served.refresh() is True and served.view.name == added.generation
        top = engine.search(NEW_QUERY, 3)["passages"][0]
        assert (
            top["article_id"] == NEW_ID
            and top["title"] == NEW.title
            and top["published"] == "2024-05-01"
        )
        manifest = engine.view.manifest
        assert (manifest.articles, manifest.chunks) == (added.articles, added.chunks)
        assert engine.view.find_article(NEW_ID)[1]["title"] == NEW.title
        mitaka = engine.place_page("132047", limit=50)
        assert NEW_ID in {p["article_id"] for p in mitaka["passages"]}
        listed = engine.view.articles_page(("id", "title", "published"), 0, 50)
        assert listed[0]["id"] == NEW_ID and len(listed) == manifest.articles  # newest first
    assert added.chunks - before.chunks == len(served.view.article_view(NEW_ID)[1])

    changed = Article(
        NEW.id,
        NEW.title,
        NEW.text.replace("三鷹市", "宇佐市"),
        NEW.source,
        NEW.published,
        NEW.url,
        NEW.path,
    )
    updated = indexing.apply(ix, changes.Change(upsert=(changed,)), embedder, spec)
    assert updated.updated == [NEW_ID] and updated.articles == added.articles
    assert served.refresh() is True
    assert NEW_ID not in {
        p["article_id"] for p in served.place_page("132047", limit=50)["passages"]
    }
    assert NEW_ID in {p["article_id"] for p in served.place_page("442119", limit=50)["passages"]}
    hits = [p for p in served.search(NEW_QUERY, 20)["passages"] if p["article_id"] == NEW_ID]
    assert hits and all("三鷹市" not in p["text"] for p in hits)
    assert len({p["id"] for p in hits}) == len(
        hits
    )  # the replaced passages are not served beside the new ones

    removed = indexing.remove_ids(ix, [NEW_ID], embedder, store=spec)
    assert removed.removed == [NEW_ID]
    for engine in (Engine(ix, embedder, gazetteer, store=spec), served):
        if engine is served:
            assert served.refresh() is True
        assert NEW_ID not in {p["article_id"] for p in engine.search(NEW_QUERY, 50)["passages"]}
        assert engine.view.find_article(NEW_ID) is None and engine.view.article_view(NEW_ID) is None
        assert NEW_ID not in {
            p["article_id"] for p in engine.place_page("442119", limit=50)["passages"]
        }
        assert NEW_ID not in {a["id"] for a in engine.view.articles_page(("id",), 0, 200)}
        manifest = engine.view.manifest
        assert (manifest.articles, manifest.chunks) == (before.articles, before.chunks)
    same(without(served.search(NEW_QUERY, 10)), without(baseline))
    assert milvus_check.report(spec)["ok"]
    rows = physical(spec)
    assert (rows["articles"], rows["chunks"], rows["newer"]) == (before.articles, before.chunks, 0)
    with pytest.raises(indexing.UnknownArticle):
        indexing.remove_ids(ix, [NEW_ID], embedder, store=spec)


def test_crash_before_the_head_switch_leaves_the_old_commit(
    write_store, embedder, gazetteer, monkeypatch
):
    """A writer that dies after inserting its rows, before moving the head: readers never see those rows, and the
    next write deletes them."""
    spec, ix = write_store
    served = Engine(ix, embedder, gazetteer, store=spec)
    head, rows = head_of(spec), physical(spec)
    answers = {q: served.search(q, 10) for q in (NEW_QUERY, "窓口キャッシュレスの事例")}
    real_write = mh.write

    def dies(*args, **kwargs):
        raise Crash("the writer died before switching the head")

    monkeypatch.setattr(mh, "write", dies)
    with pytest.raises(Crash):
        indexing.apply(ix, changes.Change(upsert=(NEW,)), embedder, spec)
    monkeypatch.setattr(mh, "write", real_write)

    assert head_of(spec) == head
    left = physical(spec)
    assert (
        left["articles"] == rows["articles"] + 1
        and left["chunks"] > rows["chunks"]
        and left["newer"] > 0
    )
    assert served.refresh() is False
    for engine in (served, Engine(ix, embedder, gazetteer, store=spec)):
        for query, answer in answers.items():
            same(without(engine.search(query, 10)), without(answer))
        assert engine.view.find_article(NEW_ID) is None
        assert NEW_ID not in {a["id"] for a in engine.view.articles_page(("id",), 0, 200)}
        assert NEW_ID not in {
            p["article_id"] for p in engine.place_page("132047", limit=50)["passages"]
        }
    checked = milvus_check.report(spec)
    assert checked["ok"] and checked["generation"] == head.name

    again = indexing.apply(
        ix, changes.Change(upsert=(NEW,)), embedder, spec
    )  # the next write cleans up first
    assert again.added == [NEW_ID] and again.generation == f"milvus-{head.commit + 1:06d}"
    after = physical(spec)
    assert after["newer"] == 0
    assert (after["articles"], after["chunks"]) == (head.articles + 1, again.chunks)
    client, n = mc.connect(spec), mc.names(spec)
    assert count(client, n.articles, f'article_id == "{NEW_ID}"') == 1
    assert served.refresh() and served.search(NEW_QUERY, 1)["passages"][0]["article_id"] == NEW_ID
    assert milvus_check.report(spec)["ok"]

    indexing.remove_ids(ix, [NEW_ID], embedder, store=spec)
    final = physical(spec)
    assert (final["articles"], final["chunks"], final["newer"]) == (
        rows["articles"],
        rows["chunks"],
        0,
    )


def test_crash_after_the_head_switch_hides_the_replaced_rows(
    write_store, embedder, gazetteer, monkeypatch
):
    """A writer that dies after moving the head but before deleting the rows its update replaced: readers see the
    new version only, and the next write deletes the old rows."""
    spec, ix = write_store
    first = indexing.apply(ix, changes.Change(upsert=(crash_article(1),)), embedder, spec)
    client, n = mc.connect(spec), mc.names(spec)
    old_rows = count(client, head_of(spec).chunks, f'article_id == "{CRASH_ID}"')
    real_recover, calls = mw.recover, []

    def recover_then_die(client, names, head):
        calls.append(head.commit)
        if len(calls) == 2:  # the clean-up right after the switch
            raise Crash("the writer died after switching the head")
        return real_recover(client, names, head)

    monkeypatch.setattr(mw, "recover", recover_then_die)
    with pytest.raises(Crash):
        indexing.apply(ix, changes.Change(upsert=(crash_article(2),)), embedder, spec)
    monkeypatch.setattr(mw, "recover", real_recover)

    head = head_of(spec)
    assert head.name != first.generation and head.pending_ids == [CRASH_ID]
    new_rows = count(client, head.chunks, f'article_id == "{CRASH_ID}" and commit == {head.commit}')
    assert (
        count(client, head.chunks, f'article_id == "{CRASH_ID}"') == old_rows + new_rows
    )  # both still stored
    assert count(client, n.articles, f'article_id == "{CRASH_ID}"') == 2
    engine = Engine(ix, embedder, gazetteer, store=spec)
    assert engine.view.find_article(CRASH_ID)[1]["title"] == crash_article(2).title
    view = engine.view.article_view(CRASH_ID)
    assert len(view[1]) == new_rows and "チャットボット" not in "".join(p["text"] for p in view[1])
    hits = [
        p
        for p in engine.search("かみやま村 粗大ごみ 予約", 20)["passages"]
        if p["article_id"] == CRASH_ID
    ]
    assert (
        hits
        and all(p["title"] == crash_article(2).title for p in hits)
        and "チャットボット" not in str(hits)
    )
    assert engine.view.manifest.articles == first.articles
    assert sum(1 for a in engine.view.articles_page(("id",), 0, 200) if a["id"] == CRASH_ID) == 1
    assert milvus_check.report(spec)["ok"]

    indexing.remove_ids(
        ix, [CRASH_ID], embedder, store=spec
    )  # the next write finishes the clean-up
    head = head_of(spec)
    assert head.pending_ids == [] and physical(spec)["newer"] == 0
    assert count(client, head.chunks, f'article_id == "{CRASH_ID}"') == 0
    assert count(client, n.articles, f'article_id == "{CRASH_ID}"') == 0
    assert (physical(spec)["articles"], physical(spec)["chunks"]) == (head.articles, head.rows)
    assert milvus_check.report(spec)["ok"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "given",
    [
        "milvus:",
        "milvus:   ",
        "milvus:/tmp/x",
        "milvus:relative/dir",
        "redis:foo",
        "milvus",
        "Milvus:/tmp/x.db",
    ],
)
def test_bad_store_settings_are_refused(given):
    with pytest.raises(BadStore) as refused:
        parse(given)
    assert "JSEARCH_STORE" in refused.value.ja and "JSEARCH_STORE" in refused.value.en
    assert repr(given.strip()) in refused.value.en and refused.value.status == 422


def test_good_store_settings_parse():
    assert parse(None).kind == parse("").kind == parse("faiss").kind == "faiss"
    assert parse("milvus:/var/lib/x.db").is_lite and not parse("milvus:http://db:19530").is_lite
    assert parse("milvus:http://db:19530", "u:p", "other").collection == "other"
    with pytest.raises(BadStore):
        parse("milvus:/tmp/x.db", collection="bad-name")


def test_unreachable_server_is_refused_quickly():
    began = time.monotonic()
    with pytest.raises(mc.MilvusUnavailable) as refused:
        mc.connect(parse("milvus:http://127.0.0.1:1"))
    took = time.monotonic() - began
    assert took < 30, f"{took:.1f} s to give up"
    assert "127.0.0.1:1" in refused.value.ja and "cannot use Milvus" in refused.value.en
    assert refused.value.status == 503


def test_lite_path_whose_folder_is_missing(tmp_path):
    with pytest.raises(mc.MilvusUnavailable) as refused:
        mc.connect(parse(f"milvus:{tmp_path}/no/such/x.db"))
    assert "親フォルダ" in refused.value.ja and "parent folder" in refused.value.en


def test_a_store_of_another_model_is_refused_and_left_as_it_was(tmp_path, embedder, gazetteer):
    spec, ix = parse(f"milvus:{tmp_path}/m.db"), tmp_path / "ix"
    indexing.apply(ix, changes.Change(upsert=(crash_article(1),)), embedder, spec)
    client, n = mc.connect(spec), mc.names(spec)
    other = mh.read(client, n).but(model="intfloat/other-e5-small", dimension=384)
    mh.write(client, n, other)
    rows = physical(spec)

    with pytest.raises(mc.StoreMismatch) as refused:
        indexing.apply(ix, changes.Change(upsert=(NEW,)), embedder, spec)
    assert "intfloat/other-e5-small" in refused.value.ja and "384" in refused.value.ja
    assert "intfloat/other-e5-small" in refused.value.en and embedder.info.name in refused.value.en
    assert "--rebuild" in refused.value.en and refused.value.status == 409
    assert mh.read(client, n) == other and physical(spec) == rows  # nothing written

    from indexer.stores.manifest import IndexMismatch

    with pytest.raises(IndexMismatch) as refused:
        Engine(ix, embedder, gazetteer, store=spec)
    assert "intfloat/other-e5-small" in refused.value.ja and embedder.info.name in refused.value.en


# ---------------------------------------------------------------- FAISS without the Milvus extras

NO_MILVUS = """
import sys
sys.modules["pymilvus"] = None       # the extras are not installed: importing them fails
sys.modules["milvus_lite"] = None
"""


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JSEARCH_")}
    return subprocess.run(
        [sys.executable, "-c", NO_MILVUS + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
    )


def test_faiss_needs_no_milvus_extras(tmp_path):
    done = _python(
        f"""
        from pathlib import Path
        from corpus.article import Article
        from indexer.write import indexing
        from indexer.write import changes
        from indexer.model.base import Embedder
        from search.engine import Engine
        from api.settings import Settings

        embedder = Embedder.load()
        town = Article("0123456789abcdef", "ゆずりは町の電子申請", "ゆずりは町は住民票の電子申請を始めた。")
        report = indexing.apply(Path({str(tmp_path / "ix")!r}), changes.Change(upsert=(town,)), embedder,
                                Settings().store_spec())
        answer = Engine(Path({str(tmp_path / "ix")!r}), embedder).search("住民票の電子申請", 1)
        assert answer["passages"][0]["article_id"] == "0123456789abcdef", answer
        assert "pymilvus" not in sys.modules or sys.modules["pymilvus"] is None
        print("ok", report.generation)
    """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok g")


def test_milvus_without_the_extras_says_what_to_install(tmp_path):
    done = _python(
        f"""
        from api.cli import main
        sys.argv = ["jsearch", "check", "--index-dir", {str(tmp_path / "ix")!r}]
        main()
    """,
        tmp_path,
        JSEARCH_STORE=f"milvus:{tmp_path}/x.db",
    )
    assert done.returncode == 1, done.stderr
    assert "pip install 'jichitai-search[milvus]'" in done.stderr
    assert "エラー:" in done.stderr and "Error:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_own_synonyms_are_a_new_head_that_answers_and_later_writes_keep(
    write_store, embedder, gazetteer
):
    from indexer.stores.factory import open_store

    spec, ix = write_store
    store = open_store(spec, ix)
    served = Engine(ix, embedder, gazetteer, store=spec)
    before = served.search("電申の事例", 5, "lexical")
    name = store.set_synonyms([["電子申請", "電申"]])
    assert served.refresh() is True and served.view.name == name != before["generation"]
    after = served.search("電申の事例", 5, "lexical")
    assert after["expanded"] == ["電子申請"] and "電子申請" in after["passages"][0]["text"]
    assert after["passages"][0]["scores"]["lexical"] > before["passages"][0]["scores"]["lexical"]
    assert (served.view.manifest.articles, served.view.manifest.chunks) == (
        Engine(ix, embedder, gazetteer, store=spec).view.manifest.articles,
        head_of(spec).rows,
    )
    written = indexing.apply(ix, changes.Change(upsert=(NEW,)), embedder, spec)
    assert store.synonyms() == [["電子申請", "電申"]]
    indexing.apply(ix, changes.Change(remove=(NEW_ID,)), embedder, spec)
    store.set_synonyms([])
    assert written.articles and store.synonyms() == []


def test_milvus_suggests_titles_headings_and_places_as_faiss_does(engine, milvus_engine):
    """Milvus offers no terms (it keeps term ids, not words); its titles, headings and places are FAISS's."""

    def offered(answer: dict) -> list[tuple[str, str, str | None]]:
        return [(s["text"], s["kind"], s["code"]) for s in answer["suggestions"]]

    for prefix in ("うさ", "みたか", "自治体", "でじたる", "セミナー"):
        faiss = [s for s in offered(engine.suggest(prefix, 20)) if s[1] != "term"]
        milvus = offered(milvus_engine.suggest(prefix, 20))
        assert milvus and {s[1] for s in milvus} <= {"title", "heading", "municipality"}
        assert set(milvus) == set(faiss), prefix
    assert offered(milvus_engine.suggest("うさ", 1)) == [("宇佐市", "municipality", "442119")]
