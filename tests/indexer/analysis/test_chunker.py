"""Chunking Japanese article structure: items, headings, sentences, offsets and sizes."""

from corpus.bundled import bundled_corpus_dir
from corpus.loaders import load_paths
from indexer.analysis.chunker import ChunkerConfig, chunk_text, split_sentences


def test_offsets_point_into_the_article_for_every_bundled_article():
    for article in load_paths([bundled_corpus_dir()]).articles:
        chunks = chunk_text(article.text)
        assert chunks
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= ChunkerConfig().max_chars
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_a_news_digest_gives_one_case_per_chunk():
    text = (
        "【自治体】\n\n■宇佐市、窓口キャッシュレス化の実証実験を実施\n大分県宇佐市は、窓口キャッシュレス化の実証実験を"
        "実施します。\nhttps://example.jp/usa\n\n \n\n■大分市、オンライン申請を開始\n大分県大分市は、新しいオンライン"
        "申請システムを開始しました。\nhttps://example.jp/oita\n"
    )
    chunks = chunk_text(text)
    assert len(chunks) == 2
    assert chunks[0].text.startswith("■宇佐市") and chunks[0].text.endswith(
        "https://example.jp/usa"
    )
    assert chunks[1].text.startswith("■大分市") and "宇佐市" not in chunks[1].text
    assert chunks[0].heading == chunks[1].heading == "【自治体】"


def test_headings_become_context_not_text():
    text = "三条市のDXへの取組\n\nまず、チャットツールの活用です。本市では全職員が使っています。\n"
    [chunk] = chunk_text(text)
    assert chunk.heading == "三条市のDXへの取組" and chunk.text.startswith("まず")


def test_long_paragraphs_split_on_sentences_outside_brackets():
    sentence = "本市は「窓口の混雑を。減らす」ために、予約システムを導入しました。"
    text = sentence * 30
    chunks = chunk_text(text, ChunkerConfig(target=200, max_chars=300))
    assert len(chunks) > 1
    assert all(c.text.endswith("。") and len(c.text) <= 300 for c in chunks)
    assert all(c.text.count("「") == c.text.count("」") for c in chunks)


def test_sentence_split_respects_quotes_and_parentheses():
    spans = split_sentences("彼は「はい。そうです。」と言った。（補足。）次の文！")
    text = "彼は「はい。そうです。」と言った。（補足。）次の文！"
    assert [text[s:e] for s, e in spans] == [
        "彼は「はい。そうです。」と言った。",
        "（補足。）次の文！",
    ]


def test_separate_teasers_on_consecutive_lines_stay_apart():
    teaser = (
        "三鷹市(東京都)では、窓口業務での住民との接触を極力減らすべく、セミセルフレジを導入した。"
        * 2
    )
    other = "八王子市(東京都)では、介護事業所への通知の既読確認をクラウドで行うようにした。" * 2
    chunks = chunk_text(f"東京都\n{teaser}\n{other}\n")
    assert [c.text for c in chunks] == [teaser, other]


def test_blank_lines_between_lines_count_towards_max_chars():
    text = "\n\n\n".join("・" + "窓口の予約" * 9 + "です" for _ in range(10)) + "\n"
    chunks = chunk_text(text)
    assert all(len(c.text) <= ChunkerConfig().max_chars for c in chunks)
    assert "".join(c.text for c in chunks).count("・") == 10


def test_short_list_like_lines_stay_text():
    for line in (
        "AED設置箇所一覧、住居番号と土地の地番対照表 など",
        "防災マップ等",
        "電子申請 ほか",
    ):
        [chunk] = chunk_text(
            f"【公開データ】\n\n{line}\n\n詳しくは市のホームページをご覧ください。\n"
        )
        assert chunk.heading == "【公開データ】" and chunk.text.startswith(line)


def test_only_lines_beside_blank_lines_can_be_plain_headings():
    text = "<講師>\n\n新潟県三条市 市長\n滝沢 亮 氏\n\nプロフィール\n\n平成21年11月 司法試験合格\n平成24年1月 弁護士登録\n"
    assert [(c.heading, c.text) for c in chunk_text(text)] == [
        ("<講師>", "新潟県三条市 市長\n滝沢 亮 氏"),
        ("プロフィール", "平成21年11月 司法試験合格\n平成24年1月 弁護士登録"),
    ]
