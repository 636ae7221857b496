"""Query expansion on the bundled index: dictionary synonyms and variants the index holds, own groups, and what an
added term is worth beside a typed one."""

from __future__ import annotations

import numpy as np

from indexer.analysis import lexical
from search import evidence, expansion


def test_words_staff_type_are_widened_to_the_articles_words(engine):
    answer = engine.search("マイナカードを使ったサービス")
    assert answer["expanded"] == [
        "マイナンバーカード"
    ]  # マイナ + カード looked up together, カード alone not
    assert engine.search("スマホで申請")["expanded"] == ["スマートフォン"]
    assert "人工知能" in engine.search("AIで議事録")["expanded"]


def test_neighbours_in_meaning_and_inflections_are_not_added(engine):
    assert engine.search("窓口キャッシュレスの事例")["expanded"] == []  # 事例 ~ ケース is left out
    assert engine.search("決済を使った")["expanded"] == []  # 決済 ~ 会計; 使っ ~ 使う


def test_expand_false_and_dense_mode_add_nothing(engine):
    assert engine.search("マイナカード", expand=False)["expanded"] == []
    assert engine.search("マイナカード", mode="dense")["expanded"] == []


def test_an_added_term_finds_the_passages_that_write_it(engine):
    wide = engine.search("マイナカード", mode="lexical")
    narrow = engine.search("マイナカード", mode="lexical", expand=False)
    assert "マイナンバーカード" in wide["passages"][0]["text"]
    assert wide["passages"][0]["scores"]["lexical"] > narrow["passages"][0]["scores"]["lexical"]
    marked = {
        wide["passages"][0]["text"][h["start"] : h["end"]]
        for h in wide["passages"][0]["highlights"]
    }
    assert "マイナンバーカード" in "".join(marked)


def test_own_groups_are_always_added_and_counted_at_the_added_weight():
    found = expansion.expand("電申の事例", [["電子申請", "電申"]], None, lambda terms: {})
    assert found.terms == ("電子申請",) and found.alternates("電申") == ("電子申請",)
    extra = expansion.lexical_extra(found, lexical.tokenize("電申の事例"))
    assert extra["電子申請"] == expansion.ADDED_WEIGHT and "電" not in extra  # no single characters
    assert "申請" in extra and "電子" in extra


def test_an_alternate_counts_less_than_the_word_typed():
    words, weights = ("電申", "事例"), np.array([2.0, 1.0])
    typed = evidence.coverage(words, weights, "電申の事例")
    alternate = evidence.coverage(words, weights, "電子申請の事例", [("電子申請",), ()])
    missing = evidence.coverage(words, weights, "申込の事例", [("電子申請",), ()])
    assert typed == 1.0 and missing == 1.0 / 3
    assert np.isclose(alternate, (2.0 * expansion.ADDED_WEIGHT + 1.0) / 3)


def test_an_acronym_adds_what_it_stands_for_and_latin_words_add_nothing(engine):
    assert engine.search("RPAで業務効率化")["expanded"] == ["ロボティックプロセスオートメーション"]
    assert engine.search("LINEで行政手続き")["expanded"] == []  # LINE ~ 線: no acronym's expansion
    assert engine.search("データに基づく政策立案")["expanded"] == []  # データ ~ data
    assert (
        engine.search("cashless payment at the counter")["expanded"] == []
    )  # Latin only: dense leads
