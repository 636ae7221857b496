"""Finding places in Japanese text with the real gazetteer: ambiguity, 郡, prefixes, traps, subjects, inheritance."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.analysis.normalize import nfkc
from indexer.places.gazetteer import Gazetteer
from indexer.places.mentions import Mention, find_mentions, named_prefectures
from indexer.places.subjects import extract, inherit, resolve_chunks, subject_of

CORPUS = Path(__file__).resolve().parents[3] / "corpus" / "data"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def names(mentions: list[Mention]) -> list[tuple[str, str]]:
    return [(m.place.name, m.place.prefecture) for m in mentions]


def found(text: str, gaz: Gazetteer, context: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return names(find_mentions(nfkc(text), gaz, context))


# --- ambiguous names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["府中市（東京都）では", "府中市(東京都)では", "東京都府中市は", "東京都の府中市"]
)
def test_fuchu_in_tokyo(gaz, text):
    assert found(text, gaz) == [("府中市", "東京都")]


def test_fuchu_in_hiroshima_by_prefix(gaz):
    [mention] = find_mentions("広島県府中市は", gaz)
    assert mention.place.code == "342084" and (mention.start, mention.end) == (3, 6)


def test_bare_fuchu_is_dropped_not_guessed(gaz):
    assert found("府中市の道路点検", gaz) == []


def test_bare_fuchu_takes_a_context_prefecture(gaz):
    assert found("府中市の道路点検", gaz, ("広島県",)) == [("府中市", "広島県")]
    assert found("府中市の道路点検", gaz, ("大分県", "東京都", "広島県")) == [("府中市", "東京都")]


def test_prefecture_named_in_the_passage_beats_the_callers_context(gaz):
    text = "広島県では、府中市の道路点検を支援する。"
    assert found(text, gaz, ("東京都",)) == [("広島県", "広島県"), ("府中市", "広島県")]


@pytest.mark.parametrize(
    "text, code",
    [
        ("東京都北区", "131172"),
        ("北区(東京都)は", "131172"),
        ("大阪市北区", "271276"),
        ("大阪府大阪市北区", "271276"),
        ("札幌市北区", "011029"),
        ("大阪市の北区", "271276"),
    ],
)
def test_kita_ku_resolves_by_its_city_or_prefecture(gaz, text, code):
    assert [m.place.code for m in find_mentions(text, gaz)][-1:] == [code]
    assert sum(m.place.name.endswith("北区") for m in find_mentions(text, gaz)) == 1


def test_bare_kita_ku_needs_context(gaz):
    assert found("北区で実証実験", gaz) == []
    assert found("北区で実証実験", gaz, ("東京都",)) == [("北区", "東京都")]
    assert found("北区で実証実験", gaz, ("兵庫県",)) == [("神戸市北区", "兵庫県")]
    # 大阪府 holds 大阪市北区 and 堺市北区: still ambiguous, and a lower-priority context does not decide it
    assert found("北区で実証実験", gaz, ("大阪府", "東京都")) == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("港北区", "横浜市港北区"),
        ("安佐北区", "広島市安佐北区"),
        ("小倉北区", "北九州市小倉北区"),
        ("横浜市港北区", "横浜市港北区"),
    ],
)
def test_kita_ku_never_fires_inside_another_ward(gaz, text, name):
    assert [m.place.name for m in find_mentions(text, gaz)] == [name]


def test_single_kanji_ward_needs_context_even_when_unique(gaz):
    assert found("桜区の窓口", gaz) == []
    assert found("桜区の窓口", gaz, ("埼玉県",)) == [("さいたま市桜区", "埼玉県")]
    assert found("中央区", gaz) == [] and found("中央区", gaz, ("東京都",)) == [
        ("中央区", "東京都")
    ]


def test_date_shi_exists_twice(gaz):
    assert found("伊達市", gaz) == []
    assert found("福島県伊達市", gaz) == [("伊達市", "福島県")]


def test_a_list_shares_its_prefecture(gaz):
    assert found("東京都府中市・北区", gaz) == [("府中市", "東京都"), ("北区", "東京都")]


# --- 郡 ---------------------------------------------------------------------------------------------


def test_district_prefix_is_part_of_the_town(gaz):
    [mention] = find_mentions("河東郡上士幌町", gaz)
    assert mention.place.name == "上士幌町" and (mention.start, mention.end) == (0, 7)
    [mention] = find_mentions("北海道河東郡上士幌町は", gaz)
    assert mention.place.name == "上士幌町" and mention.start == 3


def test_unknown_district_is_matched_generically(gaz):
    [mention] = find_mentions("北海道十勝郡上士幌町", gaz)
    assert mention.place.name == "上士幌町" and (mention.start, mention.end) == (3, 10)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("蒲郡市", [("蒲郡市", "愛知県")]),
        ("愛知県蒲郡市", [("蒲郡市", "愛知県")]),
        ("上郡町", [("上郡町", "兵庫県")]),
        ("兵庫県赤穂郡上郡町", [("上郡町", "兵庫県")]),
        ("郡山市", [("郡山市", "福島県")]),
        ("大和郡山市", [("大和郡山市", "奈良県")]),
    ],
)
def test_names_that_contain_gun(gaz, text, expected):
    assert found(text, gaz) == expected


def test_gun_before_a_city_is_no_district(gaz):
    assert found("上川郡旭川市", gaz) == []


# --- prefectures --------------------------------------------------------------------------------------


def test_bare_prefecture_is_a_prefecture_level_mention(gaz):
    [mention] = find_mentions("神奈川県のLINE公式アカウント", gaz)
    assert (
        mention.place.level == "prefecture"
        and mention.place.name == "神奈川県"
        and mention.place.code == "140007"
    )


def test_prefecture_before_its_municipality_is_context(gaz):
    assert found("大分県宇佐市は", gaz) == [("宇佐市", "大分県")]
    assert found("大分県 宇佐市", gaz) == [("宇佐市", "大分県")]
    assert found("東京都中央区", gaz) == [("中央区", "東京都")]


def test_prefecture_before_another_prefectures_city_is_a_mention(gaz):
    assert found("大分県宇都宮市", gaz) == [("大分県", "大分県"), ("宇都宮市", "栃木県")]


def test_tokyo_as_actor(gaz):
    [mention] = extract("東京都は、デジタルツインの実証を開始した。", gaz)
    assert (
        mention.place.name == "東京都"
        and mention.place.level == "prefecture"
        and mention.role == "subject"
    )


def test_parenthesised_prefecture_is_context_not_a_mention(gaz):
    assert found("三鷹市(東京都)では", gaz) == [("三鷹市", "東京都")]
    assert found("八女市（福岡）は", gaz) == [("八女市", "福岡県")]


def test_named_prefectures_in_order_then_implied(gaz):
    assert named_prefectures("宇佐市と府中市(東京都)、それに神奈川県", gaz) == [
        "東京都",
        "神奈川県",
        "大分県",
    ]


# --- traps --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "市区町村と都道府県",
        "県内の本市では",
        "同市長は",
        "観光市場",
        "天津市との交流",
        "株式会社船橋市場",
        "船橋市場の再整備",
        "北海道大学と共同研究",
        "経産省北海道経済産業局",
        "にぎわいの町づくり",
        "都市計画",
        "道府県",
        "政令指定都市",
        "中核市",
    ],
)
def test_no_place_in_ordinary_words(gaz, text):
    assert find_mentions(nfkc(text), gaz, ("東京都",)) == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("東大和市", "東大和市"),
        ("大和市", "大和市"),
        ("市川市", "市川市"),
        ("市川三郷町", "市川三郷町"),
        ("西東京市", "西東京市"),
        ("東村山市", "東村山市"),
        ("伊豆の国市", "伊豆の国市"),
        ("関ヶ原町", "関ケ原町"),
        ("関ケ原町", "関ケ原町"),
        ("兼務するつくば市の職員", "つくば市"),
        ("高知県いの町", "いの町"),
        ("同県宇佐市", "宇佐市"),
        ("三条市長", "三条市"),
    ],
)
def test_longest_real_name_only(gaz, text, name):
    assert [m.place.name for m in find_mentions(nfkc(text), gaz)] == [name]


# --- subjects -----------------------------------------------------------------------------------------


def test_digest_item_head_is_the_subject_and_its_prefecture_is_not_named(gaz):
    text = "■宇佐市、窓口キャッシュレス化の実証実験を実施\n大分県宇佐市は、デジタル化の推進を目的として実証実験を実施する。"
    [mention] = extract(text, gaz)
    assert mention.place.code == "442119" and mention.role == "subject" and mention.start == 1


def test_item_head_subject_and_body_with_prefix(gaz):
    text = "■つくば市、市民意見収集システムの共同研究を実施\n茨城県つくば市は、筑波大学と共同研究を行う。"
    assert [(m.place.name, m.role) for m in extract(text, gaz)] == [("つくば市", "subject")]


def test_topic_is_subject_and_other_names_are_mentions(gaz):
    text = nfkc(
        "そうしたなか、八王子市(東京都)では窓口を改善した。導入にあたっては渋谷区の事例を参考にしたという。"
    )
    assert [(m.place.name, m.role) for m in extract(text, gaz)] == [
        ("八王子市", "subject"),
        ("渋谷区", "mention"),
    ]


def test_actor_and_passing_mentions(gaz):
    text = "宇佐市は、中津市や別府市と連携して共同調達を進める。"
    roles = {m.place.name: m.role for m in extract(text, gaz)}
    assert roles == {"宇佐市": "subject", "中津市": "mention", "別府市": "mention"}


def test_only_municipality_named_is_the_subject(gaz):
    text = "先進事例として、平塚市のプレミアム商品券の電子化を紹介する。"
    assert [(m.place.name, m.role) for m in extract(text, gaz)] == [("平塚市", "subject")]


def test_several_names_without_topic_have_no_subject(gaz):
    text = "長崎県平戸市や佐賀県唐津市のように、友だち登録数の多い自治体もある。"
    assert {m.role for m in extract(text, gaz)} == {"mention"}


def test_bracket_label_and_prefixed_heading_heads(gaz):
    assert (
        subject_of(
            "[自治体] 長崎市、連携協定を締結", find_mentions("[自治体] 長崎市、連携協定を締結", gaz)
        )[0].name
        == "長崎市"
    )
    heading = "新潟県三条市 市長\n滝沢 亮 氏"
    assert [p.name for p in subject_of(heading, find_mentions(heading, gaz))] == ["三条市"]


def test_names_joined_by_nakaguro_share_the_subject_role(gaz):
    text = "群馬県渋川市・吉岡町・榛東村【市町村が住民向けのスマホ講座を共同開催】"
    assert [(m.place.name, m.role) for m in extract(text, gaz)] == [
        ("渋川市", "subject"),
        ("吉岡町", "subject"),
        ("榛東村", "subject"),
    ]


def test_extract_keeps_one_mention_per_place_with_first_position_and_strongest_role(gaz):
    text = "隣接する宇佐市の事例がある。宇佐市は窓口を改善し、大分市と協議した。"
    mentions = extract(text, gaz)
    assert [(m.place.name, m.role, m.start) for m in mentions] == [
        ("宇佐市", "subject", 4),
        ("大分市", "mention", 25),
    ]


def test_inherit_marks_places_without_position(gaz):
    sanjo = gaz.by_name("三条市")[0]
    assert inherit([sanjo, sanjo]) == [Mention(sanjo, -1, -1, "inherited")]


# --- chunks of an article -------------------------------------------------------------------------------

SEMINAR = (
    "【セミナーレポート】予算×DX\n\n概要\n■実施日:9月22日\n\n三条市のDXへの取組\n<講師>\n新潟県三条市 市長\n"
    "\n「三条市のDXは手段」と、同市長は強調する。\nまず、職員の楽ちん化についてお話しします。\n"
    "本市では、チャットツールを全職員に導入しました。\n\n市民の楽ちん化について\n"
    "本市はマイナンバーカードの活用を早くから進めています。\n小・中学校の欠席連絡もクラウドで受け付けています。\n\nまとめ\n"
    "デジタル化は目的ではなく手段です。"
)


def _chunks(article: str, pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    assert all(text in article for text, _ in pieces)
    return pieces


def test_talk_chunks_inherit_the_speakers_city(gaz):
    chunks = _chunks(
        SEMINAR,
        [
            (
                "「三条市のDXは手段」と、同市長は強調する。\nまず、職員の楽ちん化についてお話しします。",
                "talk",
            ),
            ("本市では、チャットツールを全職員に導入しました。", "talk"),
            ("本市はマイナンバーカードの活用を早くから進めています。", "citizens"),
            ("デジタル化は目的ではなく手段です。", "summary"),
        ],
    )
    result = resolve_chunks(chunks, gaz, SEMINAR)
    assert [(m.place.name, m.role) for m in result[0]] == [("三条市", "subject")]
    assert [(m.place.name, m.role, m.start) for m in result[1]] == [("三条市", "inherited", -1)]
    assert [(m.place.name, m.role) for m in result[2]] == [
        ("三条市", "inherited")
    ]  # 本市: the latest subject
    assert result[3] == []  # no place, no self-reference, no article subject


def test_a_sections_self_reference_speaks_for_its_placeless_siblings(gaz):
    chunks = _chunks(
        SEMINAR,
        [
            ("「三条市のDXは手段」と、同市長は強調する。", "talk"),
            ("本市はマイナンバーカードの活用を早くから進めています。", "citizens"),
            ("小・中学校の欠席連絡もクラウドで受け付けています。", "citizens"),
            ("デジタル化は目的ではなく手段です。", "summary"),
        ],
    )
    result = resolve_chunks(chunks, gaz, SEMINAR)
    assert [(m.place.name, m.role) for m in result[2]] == [("三条市", "inherited")]
    assert result[3] == []  # another section without 本市 is not claimed


def test_list_items_do_not_hand_their_subject_to_other_items(gaz):
    article = (
        "公共分野デジタル化動向\n【自治体】\n■宇佐市、窓口キャッシュレス化の実証実験を実施\n大分県宇佐市は、実証実験を実施する。\n"
        "詳しくは市のウェブサイトを参照。\n■デジタル庁、職員を公募\nデジタル庁は、職員を公募する。"
    )
    chunks = _chunks(
        article,
        [
            (
                "■宇佐市、窓口キャッシュレス化の実証実験を実施\n大分県宇佐市は、実証実験を実施する。",
                "s",
            ),
            ("詳しくは市のウェブサイトを参照。", "s"),
            ("■デジタル庁、職員を公募\nデジタル庁は、職員を公募する。", "s"),
        ],
    )
    result = resolve_chunks(chunks, gaz, article)
    assert [(m.place.name, m.role) for m in result[0]] == [("宇佐市", "subject")]
    assert [(m.place.name, m.role) for m in result[1]] == [
        ("宇佐市", "inherited")
    ]  # continues the ■宇佐市 item
    assert result[2] == []


def test_section_heading_names_the_subject(gaz):
    article = "先進事例\n千葉県船橋市【段階的なオンライン化】\nこの事業のポイントは下記の2点です。\n・押印の見直し"
    result = resolve_chunks(
        [("この事業のポイントは下記の2点です。\n・押印の見直し", "2")], gaz, article
    )
    assert [(m.place.name, m.role) for m in result[0]] == [("船橋市", "inherited")]


def test_article_subject_reaches_chunks_without_places(gaz):
    article = "東京都\n東京都\n滞納整理の預貯金照会を電子化する自治体が増えている。\n三鷹市(東京都)では、窓口を改善した。"
    chunks = [
        ("滞納整理の預貯金照会を電子化する自治体が増えている。", "1"),
        ("三鷹市(東京都)では、窓口を改善した。", "1"),
    ]
    result = resolve_chunks(chunks, gaz, article)
    assert [(m.place.name, m.place.level, m.role) for m in result[0]] == [
        ("東京都", "prefecture", "inherited")
    ]
    assert [(m.place.name, m.role) for m in result[1]] == [("三鷹市", "subject")]


def test_context_prefectures_come_from_chunk_then_section_then_article(gaz):
    article = "府中市の話\n東京都の取り組み。\n広島県の事例を紹介する。\n府中市では道路点検を行う。\n府中市は窓口を改善した。"
    chunks = [
        ("広島県の事例を紹介する。", "hiroshima"),
        ("府中市では道路点検を行う。", "hiroshima"),
        ("府中市は窓口を改善した。", None),
    ]
    result = resolve_chunks(chunks, gaz, article)
    assert names(result[1]) == [("府中市", "広島県")]  # its section names 広島県
    assert names(result[2]) == [("府中市", "東京都")]  # no section: the article names 東京都 first


# --- real articles ---------------------------------------------------------------------------------------


def test_seminar_article_names_exactly_its_places(gaz):
    text = nfkc((CORPUS / "jichitai-works_seminar-r5-budget-dx-day2.txt").read_text("utf-8"))
    places = {m.place.name for m in find_mentions(text, gaz, named_prefectures(text, gaz))}
    assert places == {
        "三条市",
        "福岡市",
        "春日市",
        "滝上町",
        "岐阜県",
        "木津川市",
        "志免町",
        "山形市",
        "鳥取市",
        "千歳市",
        "平戸市",
        "唐津市",
        "つくば市",
    }


def test_tokyo_case_list_resolves_every_ward_to_tokyo(gaz):
    text = nfkc((CORPUS / "jichitai-tsushin_tokyo-case-list.txt").read_text("utf-8"))
    mentions = find_mentions(text, gaz)
    wards = [m.place for m in mentions if m.place.name.endswith("区")]
    assert {"北区", "墨田区", "渋谷区", "品川区"} <= {p.name for p in wards}
    assert all(p.prefecture == "東京都" and p.kind == "special_ward" for p in wards)


def test_extraction_takes_well_under_a_few_milliseconds_per_passage(gaz):
    passage = nfkc(
        "■宇佐市、窓口キャッシュレス化の実証実験を実施\n大分県宇佐市は、府中市(東京都)や北区の事例を参考に、"
        "市区町村と都道府県の連携を進める。" * 4
    )
    extract(passage, gaz)
    began = time.perf_counter()
    for _ in range(100):
        extract(passage, gaz)
    assert (time.perf_counter() - began) / 100 < 0.005
