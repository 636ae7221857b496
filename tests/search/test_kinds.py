"""The kind of government a query asks for, and what it does to passages and municipalities on the real index."""

import numpy as np

from search import fusion
from search.engine import Engine
from search.kinds import answers, asked_kinds, kind_of


def test_a_kind_named_on_its_own_is_asked_for():
    assert asked_kinds("LINE公式アカウントで行政手続きができる区") == {"区"}
    assert asked_kinds("マイナンバーカードを使った市独自のサービス") == {"市"}
    assert asked_kinds("窓口キャッシュレスを導入した町") == {"町"}
    assert asked_kinds("県の事例") == asked_kinds("都道府県のDX") == {"prefecture"}
    assert asked_kinds("市町村の事例") == {"市", "町", "村"}


def test_a_kind_inside_a_name_or_word_is_not_asked_for():
    for query in (
        "渋谷区の取り組み",
        "北区のBPR",
        "港区役所",
        "町内会の電子回覧板",
        "市民の声",
        "窓口キャッシュレスの事例",
        "都道府県委員会の最高決議機関は？",
    ):
        assert asked_kinds(query) == frozenset(), query


def test_kind_of_a_place_and_whether_a_passage_answers_it():
    ward = {"name": "渋谷区", "level": "municipality", "role": "subject"}
    pref = {"name": "神奈川県", "level": "prefecture", "role": "subject"}
    assert kind_of(ward) == "区" and kind_of(pref) == "prefecture"
    assert answers([pref, ward], frozenset({"区"})) and not answers([pref], frozenset({"区"}))
    assert not answers([{**ward, "role": "mention"}], frozenset({"区"}))


def test_for_kind_weighs_down_only_chosen_passages_of_no_asked_kind():
    scores = fusion.for_kind(np.array([1.0, 0.9, 0.5]), np.array([0, 1]), np.array([False, True]))
    assert list(scores) == [fusion.OTHER_KIND, 0.9, 0.5]


def test_a_question_for_a_ward_puts_the_ward_and_its_passage_first(
    bundled_index, embedder, gazetteer
):
    answer = Engine(bundled_index, embedder, gazetteer).search(
        "LINE公式アカウントで行政手続きができる区", 10
    )
    assert answer["municipalities"][0]["name"] == "渋谷区"
    top3 = [place["name"] for p in answer["passages"][:3] for place in p["municipalities"]]
    assert "渋谷区" in top3
