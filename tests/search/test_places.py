"""Municipality pages and similar cases on a real index spread over segments, with a deletion."""

from __future__ import annotations

import pytest

from corpus.article import Article, article_id
from indexer.write import changes, indexing
from search.engine import Engine
from search.errors import NotFound, QueryError


def _article(key: str, title: str, text: str, published: str | None) -> Article:
    return Article(
        article_id(f"places/{key}"), title, text, published=published, path=f"places/{key}"
    )


OLD = _article(
    "old", "宇佐市の窓口", "宇佐市は2020年に窓口でキャッシュレス決済を始めた。", "2020-04-01"
)
NEW = _article(
    "new",
    "宇佐市の電子申請",
    "宇佐市は電子申請の受付を広げた。住民の手続きが便利になった。",
    "2023-06-01",
)
MENTION = _article(
    "mention",
    "別府市の窓口改革",
    "別府市は窓口のキャッシュレス化を進めた。宇佐市の事例を参考にした。",
    "2024-01-10",
)
GONE = _article("gone", "宇佐市の古い計画", "宇佐市はかつて紙の申請書を使っていた。", "2019-01-01")


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder, gazetteer) -> Engine:
    root = tmp_path_factory.mktemp("places") / "ix"
    indexing.apply(root, changes.Change(upsert=(OLD, GONE)), embedder)
    indexing.apply(root, changes.Change(upsert=(NEW, MENTION)), embedder)
    indexing.apply(root, changes.Change(remove=(GONE.id,)), embedder)
    return Engine(root, embedder, gazetteer)


def test_page_puts_passages_about_the_place_first_newest_first_and_skips_deleted(engine):
    page = engine.place_page("442119")
    assert [(p["article_id"], p["role"]) for p in page["passages"]] == [
        (NEW.id, "subject"),
        (OLD.id, "subject"),
        (MENTION.id, "mention"),
    ]
    assert page["total"] == 3 and GONE.id not in {p["article_id"] for p in page["passages"]}
    mention = page["passages"][2]
    assert [mention["text"][h["start"] : h["end"]] for h in mention["highlights"]] == ["宇佐市"]


def test_page_of_a_former_code_is_the_current_holder(engine):
    page = engine.place_page("221317")  # 浜松市中区 (until 2023-12-31) → 浜松市中央区
    assert page["code"] == "221384" and "浜松市中区" in page["former_names"]


def test_codes_are_checked(engine):
    with pytest.raises(QueryError):
        engine.place_page("442110")
    with pytest.raises(NotFound):
        engine.place_page("999997")


def test_similar_never_returns_its_own_article_or_a_deleted_one(engine):
    source = engine.search("窓口でキャッシュレス決済", 1)["passages"][0]
    assert source["article_id"] == OLD.id
    answer = engine.similar(source["id"], 10)
    found = {p["article_id"] for p in answer["passages"]}
    assert found and not found & {OLD.id, GONE.id}
    with pytest.raises(NotFound):
        engine.similar("no-such-passage", 3)


def test_facets_count_the_relevant_articles_and_respect_deletions(engine):
    facets = engine.search("宇佐市", 10)["facets"]
    # the two articles about 宇佐市; not the one that only mentions it (the weakest candidate), nor the deleted one
    assert {v["name"]: v["count"] for v in facets["year"]} == {"2020": 1, "2023": 1}
    assert {v["name"]: v["count"] for v in facets["prefecture"]} == {"大分県": 2}
    assert facets["depth"] == 2
