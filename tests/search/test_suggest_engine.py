"""Suggestions and 「もしかして」 on the real bundled index: readings, kinds, limits, new commits, deletions."""

from __future__ import annotations

import shutil
import time

import pytest

from corpus.article import Article
from indexer.write import changes, indexing
from search.errors import QueryError
from search.suggest import Scored, fold, query_lexicon, suggest


def _texts(answer: dict) -> list[tuple[str, str]]:
    return [(s["text"], s["kind"]) for s in answer["suggestions"]]


def test_kana_prefixes_find_kanji_through_readings(engine):
    assert ("窓口", "term") in _texts(engine.suggest("まどぐち"))
    usa = engine.suggest("うさ")["suggestions"][0]
    assert (usa["text"], usa["kind"], usa["code"], usa["prefecture"]) == (
        "宇佐市",
        "municipality",
        "442119",
        "大分県",
    )
    assert any(t.startswith("キャッシュレス") for t, _ in _texts(engine.suggest("きゃっしゅ")))


def test_titles_and_headings_match_at_their_later_words(engine):
    found = _texts(engine.suggest("でじたる", k=20))
    assert {"title", "heading", "term"} <= {kind for _, kind in found}
    assert all("デジタル" in text or "digital" in text.lower() for text, _ in found)


def test_one_suggestion_per_text_best_first_and_k_respected(engine):
    answer = engine.suggest("し", k=5)
    texts = [s["text"] for s in answer["suggestions"]]
    scores = [s["score"] for s in answer["suggestions"]]
    assert len(texts) == 5 == len(set(texts)) and scores == sorted(scores, reverse=True)


def test_empty_and_huge_prefixes_answer_fast_and_bad_ones_are_refused(engine):
    assert engine.suggest("")["suggestions"] == [] and engine.suggest("   ")["suggestions"] == []
    began = time.perf_counter()
    assert engine.suggest("窓" * 1000)["suggestions"] == []
    assert time.perf_counter() - began < 0.5
    for prefix, k in (("窓" * 1001, 8), ("窓\x00", 8), ("窓", 0), ("窓", 21)):
        with pytest.raises(QueryError):
            engine.suggest(prefix, k)


def test_past_queries_are_offered_by_reading_too():
    past = Scored.of(query_lexicon([("窓口キャッシュレスの事例", 3), ("電子申請", 2)]), None)
    found = suggest("まどぐち", 8, (), past)
    assert [(s["text"], s["kind"]) for s in found] == [("窓口キャッシュレスの事例", "query")]
    assert fold("まどぐち") == "マドグチ"


def test_a_new_article_is_suggestable_after_its_commit_and_gone_after_its_deletion(
    tmp_path, bundled_index, embedder, gazetteer
):
    from search.engine import Engine

    index = tmp_path / "index"
    shutil.copytree(bundled_index, index, symlinks=True)
    engine = Engine(index, embedder, gazetteer)
    assert engine.suggest("ぬまたし")["suggestions"] == []
    article = Article(
        "suggest-new-0001",
        "沼田市の電子図書館サービス",
        "沼田市は電子図書館を開設し、貸出を始めた。",
        "test",
        "2026-01-01",
        "https://example.org/numata",
    )
    indexing.apply(index, changes.Change(upsert=(article,)), embedder)
    assert engine.refresh()
    engine.suggestions(wait=True)
    found = _texts(engine.suggest("ぬまたし"))
    assert ("沼田市", "municipality") in found and ("沼田市の電子図書館サービス", "title") in found
    indexing.apply(index, changes.Change(remove=("suggest-new-0001",)), embedder)
    assert engine.refresh()
    engine.suggestions(wait=True)
    assert engine.suggest("ぬまたし")["suggestions"] == []


@pytest.mark.parametrize(
    ("query", "text", "reason"),
    [
        ("まどぐちキャッシュレス", "窓口キャッシュレス", "reading"),
        ("うさしの事例", "宇佐市の事例", "reading"),
        ("キャッシュレス決裁", "キャッシュレス決済", "reading"),
        ("介護事業所のきどく確認", "介護事業所の既読確認", "reading"),
        ("職員向けBRP研修", "職員向けBPR研修", "spelling"),
    ],
)
def test_did_you_mean_offers_the_term_meant(engine, query, text, reason):
    for mode in ("hybrid", "lexical"):
        offer = engine.search(query, k=3, mode=mode)["did_you_mean"]
        assert offer is not None and (offer["text"], offer["reason"]) == (text, reason), offer


@pytest.mark.parametrize(
    "query",
    [
        "窓口キャッシュレスの事例",
        "宇佐市のキャッシュレス決済",
        "マイナンバーカードを活用したサービス",
        "RPAを導入した自治体",
        "オンライン申請ができる市",
        "cashless payment at city hall",
    ],
)
def test_did_you_mean_stays_silent_when_every_word_is_in_the_index(engine, query):
    assert engine.search(query, k=3)["did_you_mean"] is None
