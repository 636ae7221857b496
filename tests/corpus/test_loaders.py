"""Loaders on the bundled corpus and on files made here: metadata, formats and bad input."""

from pathlib import Path

import pytest

from corpus.bundled import bundled_corpus_dir
from corpus.loaders import LoadError, load_file, load_paths, parse_bytes


def test_bundled_corpus_titles_dates_and_sources():
    loaded = load_paths([bundled_corpus_dir()])
    assert len(loaded.articles) == 5 and not loaded.errors
    by_title = {a.title: a for a in loaded.articles}
    digest = by_title["公共分野デジタル化動向(2021.10.21)"]
    assert (digest.source, digest.published) == ("Hot Topics", "2021-10-21")
    assert any("city.usa.oita.jp" in url for url in digest.urls)
    seminar = by_title["【セミナーレポート】令和5年度予算×DX/Day2"]
    assert seminar.source == "ジチタイワークス" and seminar.published is None
    assert by_title["自治体DX先進事例を紹介!取り組み方と結果を徹底解説"].published == "2022-10-27"
    tsushin = by_title["東京都の自治体事例一覧"]  # the page names no date of its own
    assert (tsushin.source, tsushin.published) == ("自治体通信", None)


def test_ids_are_stable_and_depend_on_the_file_key(tmp_path: Path):
    (tmp_path / "a.txt").write_text("題名\n本文です。", "utf-8")
    first, second = load_file(tmp_path / "a.txt"), load_file(tmp_path / "a.txt")
    assert first.id == second.id and len(first.id) == 16
    assert load_file(tmp_path / "a.txt", key="other/a.txt").id != first.id


def test_markdown_front_matter_and_heading():
    md = "---\ntitle: 窓口DX\ndate: 2023-04-01\nsource: 広報\nurl: https://example.jp/a\n---\n# 見出し\n本文。\n"
    article = parse_bytes(md.encode(), "a.md")
    assert (article.title, article.published, article.source, article.url) == (
        "窓口DX",
        "2023-04-01",
        "広報",
        "https://example.jp/a",
    )
    assert parse_bytes("# 最初の見出し\n本文。".encode(), "b.md").title == "最初の見出し"


def test_html_keeps_main_text_and_drops_navigation_and_scripts():
    html = (
        "<html><head><title>三鷹市の窓口</title><meta property='article:published_time' "
        "content='2022-04-01T09:00:00+09:00'><link rel='canonical' href='https://example.jp/x'></head>"
        "<body><nav>メニュー項目</nav><script>alert(1)</script><main><h1>見出し</h1>"
        "<p>三鷹市では、セミセルフレジを導入した。</p></main><footer>著作権</footer></body></html>"
    )
    article = parse_bytes(html.encode(), "page.html")
    assert article.title == "三鷹市の窓口" and article.published == "2022-04-01"
    assert article.url == "https://example.jp/x"
    assert "セミセルフレジ" in article.text
    assert (
        "メニュー項目" not in article.text
        and "alert" not in article.text
        and "著作権" not in article.text
    )


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        ("bad.txt", "日本語".encode("shift_jis"), "UTF-8"),
        ("bin.txt", b"\x00\x01\x02abc", "バイナリ"),
        ("empty.txt", b"  \n", "空"),
        ("x.docx", b"PK\x03\x04", "対応していない形式"),
    ],
)
def test_bad_files_raise_load_errors_in_both_languages(name, data, fragment):
    with pytest.raises(LoadError) as info:
        parse_bytes(data, name)
    assert fragment in info.value.ja and info.value.en


def test_a_bad_file_is_reported_and_the_rest_still_load(tmp_path: Path):
    (tmp_path / "good.txt").write_text("良い記事\n本文。", "utf-8")
    (tmp_path / "bad.txt").write_bytes("悪い".encode("cp932"))
    loaded = load_paths([tmp_path, tmp_path / "missing.txt"])
    assert [a.title for a in loaded.articles] == ["良い記事"]
    assert sorted(Path(e.path).name for e in loaded.errors) == ["bad.txt", "missing.txt"]
