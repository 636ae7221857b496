"""Municipality order: a prefecture that funds, reports, hosts or locates a case is context, not its subject; the
municipality that did the work leads (issue 26)."""

from __future__ import annotations

import pytest

from corpus.article import Article
from indexer.analysis.chunker import chunk_text
from indexer.analysis.normalize import nfkc
from indexer.analysis.prepare import place_mentions
from indexer.places.subjects import extract

GUNMA = ("渋川市", "吉岡町", "榛東村")


def roles_of(text: str, gazetteer) -> dict[str, str]:
    return {m.place.name: m.role for m in extract(nfkc(text), gazetteer)}


@pytest.mark.parametrize(
    "text, prefecture",
    [
        ("群馬県の3市町村によって共同でスマホ講座が実施されました。", "群馬県"),
        ("大分県内の市町村が共同でRPAを導入した。", "大分県"),
        ("大分県が事業費の半分を補助した。", "大分県"),
        ("大分県の補助を受けた事業です。", "大分県"),
        ("福岡県によると、導入した団体は20に増えた。", "福岡県"),
        ("長野県の調べでは、導入率は4割だった。", "長野県"),
    ],
)
def test_a_prefecture_that_locates_funds_or_reports_is_a_mention(gazetteer, text, prefecture):
    assert roles_of(text, gazetteer)[prefecture] == "mention"


@pytest.mark.parametrize(
    "text, prefecture",
    [
        ("福島県は、県デジタル変革推進基本方針をとりまとめました。", "福島県"),
        ("愛知県が高齢者デジタルサポーターを育成しています。", "愛知県"),
        ("■福井県、スマートフォンアプリを用いた安全運転診断の実証実験を開始", "福井県"),
        ("東京都はオンラインカタログを通じて育児用品を提供する事業を始めた。", "東京都"),
    ],
)
def test_a_prefecture_that_did_the_work_stays_the_subject(gazetteer, text, prefecture):
    assert roles_of(text, gazetteer)[prefecture] == "subject"


def test_a_municipality_that_does_the_work_with_a_prefectures_subsidy_is_the_subject(gazetteer):
    roles = roles_of("大分県の補助を受けて、宇佐市が窓口キャッシュレス化を進めた。", gazetteer)
    assert roles == {"大分県": "mention", "宇佐市": "subject"}


def _bundled(articles, name: str) -> Article:
    return next(a for a in articles if a.path.endswith(name))


def test_under_a_heading_naming_its_municipalities_the_prefecture_is_context(
    gazetteer, bundled_articles
):
    """The real passage under 群馬県渋川市・吉岡町・榛東村【…】 says 群馬県の3市町村 and 群馬県情報化推進協議会の事業を
    活用: it is the three municipalities' case, the prefecture (its council funds the lecturers) is context."""
    article = _bundled(bundled_articles, "2022-10-27_web-meeting_jichitai-dx-cases.txt")
    chunks = chunk_text(article.text)
    places = place_mentions(article, chunks, gazetteer)
    held = [
        {m.place.name: m.role for m in p}
        for c, p in zip(chunks, places)
        if "群馬県の3市町村によって共同で" in c.text
    ]
    assert held == [{"群馬県": "mention", **dict.fromkeys(GUNMA, "inherited")}]


def test_a_prefecture_whose_own_section_it_is_stays_its_subject(gazetteer, bundled_articles):
    """愛知県【…高齢者が高齢者を支援する仕組み】 and its 県が市町村から推薦を受けた…: the prefecture did the work."""
    article = _bundled(bundled_articles, "2022-10-27_web-meeting_jichitai-dx-cases.txt")
    chunks = chunk_text(article.text)
    places = place_mentions(article, chunks, gazetteer)
    roles = [
        {m.place.name: m.role for m in p}
        for c, p in zip(chunks, places)
        if "デジタルサポーター" in c.text
    ]
    assert roles and all(r.get("愛知県") in ("subject", "inherited") for r in roles)
    assert all(set(r) == {"愛知県"} for r in roles)


def test_the_municipalities_that_did_the_work_lead_the_answer(engine):
    answer = engine.search("3市町村が合同で開いた住民向けスマホ・タブレット講座", 10, "hybrid")
    names = [p["name"] for p in answer["municipalities"]]
    assert set(names[:3]) == set(GUNMA), names
    assert "群馬県" not in names or names.index("群馬県") > 2
    first = answer["passages"][0]
    assert "群馬県の3市町村" in first["text"]
    assert {m["name"]: m["role"] for m in first["municipalities"]}["群馬県"] == "mention"
