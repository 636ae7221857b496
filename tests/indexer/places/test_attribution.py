"""Texts written by a government about itself stay attributed to it; partners, sources and examples are mentions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from corpus.article import Article
from indexer.analysis.chunker import chunk_text
from indexer.analysis.normalize import nfkc
from indexer.analysis.prepare import place_mentions
from indexer.places.gazetteer import Gazetteer
from indexer.places.mentions import find_mentions
from indexer.places.subjects import extract

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "self_authored.json"


def attributed(article: Article, gazetteer: Gazetteer) -> tuple[str, str] | None:
    """The government with the most `subject`/`inherited` passages (None on a tie or when there is none)."""
    per_passage = place_mentions(article, chunk_text(article.text), gazetteer)
    counts = Counter(
        (m.place.prefecture, m.place.name if m.place.level == "municipality" else "")
        for mentions in per_passage
        for m in mentions
        if m.role != "mention"
    )
    best = counts.most_common(2)
    if not best or (len(best) == 2 and best[0][1] == best[1][1]):
        return None
    return best[0][0]


def load_fixtures() -> list[tuple[Article, tuple[str, str]]]:
    items = json.loads(FIXTURES.read_text("utf-8"))["articles"]
    return [
        (Article(str(i), a["title"], a["text"], source=a["source"]), tuple(a["writer"]))
        for i, a in enumerate(items)
    ]


def test_self_authored_texts_are_attributed_to_their_writer(gazetteer):
    fixtures = load_fixtures()
    wrong = [
        (a.title, want, attributed(a, gazetteer))
        for a, want in fixtures
        if attributed(a, gazetteer) != want
    ]
    share = 1 - len(wrong) / len(fixtures)
    print(f"attributed to the writer: {len(fixtures) - len(wrong)}/{len(fixtures)} = {share:.1%}")
    assert len(fixtures) >= 40 and share >= 0.98, wrong


@pytest.mark.parametrize(
    "text, partner",
    [
        ("京都府及び所管課と連携し、データを掲載しています。", "京都府"),
        ("先行して導入した宇佐市の事例を参考にしました。", "宇佐市"),
        ("京都府が主催する研修に、職員20名が参加しました。", "京都府"),
        ("燕市との広域連携では、図書館の相互利用を進めた。", "燕市"),
        ("武蔵野市や調布市など多摩地域の自治体と検討します。", "武蔵野市"),
    ],
)
def test_a_place_named_as_partner_source_or_example_is_a_mention(gazetteer, text, partner):
    roles = {m.place.name: m.role for m in extract(nfkc(text), gazetteer)}
    assert roles[partner] == "mention"


def test_a_topic_stays_the_subject_where_another_sentence_names_it_as_an_example(gazetteer):
    roles = {
        m.place.name: m.role
        for m in extract("隣接する宇佐市の事例がある。宇佐市は窓口を改善した。", gazetteer)
    }
    assert roles == {"宇佐市": "subject"}


def test_a_case_list_on_an_item_line_keeps_its_subject_despite_a_partner_word_later(gazetteer):
    roles = {
        m.place.name: m.role
        for m in extract("■宇佐市、民間事業者と連携してキャッシュレス決済を導入", gazetteer)
    }
    assert roles == {"宇佐市": "subject"}


def test_partner_prefecture_does_not_take_a_passage_from_the_writer(gazetteer):
    article = Article(
        "a",
        "向日市 オープンデータの公開について",
        "本市では、データを公開しています。\n\n京都府及び所管課と連携し、府のポータルにも掲載しています。",
    )
    places = place_mentions(article, chunk_text(article.text), gazetteer)
    assert {(m.place.name, m.role) for p in places for m in p} == {
        ("京都府", "mention"),
        ("向日市", "inherited"),
    }


def test_the_source_names_the_writer_when_the_title_does_not(gazetteer):
    article = Article(
        "b",
        "よくある質問",
        "Q. 自宅で申請できますか。\nA. 本村では職員が伺います。",
        source="西粟倉村役場",
    )
    assert attributed(article, gazetteer) == ("岡山県", "西粟倉村")


def test_a_case_list_titled_by_a_prefecture_without_self_reference_has_no_writer(gazetteer):
    article = Article(
        "c", "東京都", "介護事業所への連絡を電子化した事例。\n\n導入したのは八王子市。"
    )
    places = place_mentions(article, chunk_text(article.text), gazetteer)
    assert ("八王子市", "subject") in [(m.place.name, m.role) for p in places for m in p]


@pytest.mark.parametrize(
    "written, official", [("梼原町", "檮原町"), ("桧枝岐村", "檜枝岐村"), ("竜ヶ崎市", "龍ヶ崎市")]
)
def test_everyday_kanji_spellings_of_names_are_found(gazetteer, written, official):
    assert [m.place.name for m in find_mentions(nfkc(f"{written}は"), gazetteer)] == [official]


def test_do_shi_points_back_at_the_place_named_not_at_the_writer(gazetteer):
    article = Article(
        "d",
        "向日市 近隣の取組",
        "【本市の取組】\n\n本市では電子申請を進めています。\n\n【近隣の取組】\n\n"
        "長岡京市では窓口を改善した。同市は予約も始めた。",
    )
    places = place_mentions(article, chunk_text(article.text), gazetteer)
    about = [
        {(m.place.name, m.role) for m in p}
        for p in places
        if any(m.place.name == "長岡京市" for m in p)
    ]
    assert about == [{("長岡京市", "subject")}]
