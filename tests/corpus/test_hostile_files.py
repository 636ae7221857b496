"""Hostile and huge files: each one becomes a clear LoadError or a correct article, never a crash."""

from __future__ import annotations

import os
import re
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import loaders
from corpus.article import Article
from corpus.loaders import (
    MAX_BYTES,
    MAX_CHARS,
    MAX_PDF_PAGES,
    TITLE_MAX,
    LoadError,
    clean_text,
    load_file,
    load_paths,
    parse_bytes,
)


def make_pdf(pages: list[str], info: bytes = b"") -> bytes:
    """A PDF written by hand: one line of Helvetica text per page, and a raw document-info dictionary body."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< " + info + b" >>",
    }
    kids = []
    for i, text in enumerate(pages):
        page, content = 5 + 2 * i, 6 + 2 * i
        stream = b"BT /F1 12 Tf 10 100 Td (" + text.encode("latin-1") + b") Tj ET"
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
        objects[content] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        kids.append(b"%d 0 R" % page)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[number] for number in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        xref,
    )
    return bytes(out)


def assert_clean(article: Article) -> None:
    """Every text field is encodable and free of control characters (but \\t and \\n in the text)."""
    for name, value in (
        ("title", article.title),
        ("text", article.text),
        ("source", article.source),
        ("url", article.url),
    ):
        assert isinstance(value, str), name
        value.encode("utf-8")  # no lone surrogates
        allowed = "\t\n" if name == "text" else ""
        assert not [c for c in value if unicodedata.category(c) == "Cc" and c not in allowed], (
            name,
            value,
        )
    assert article.title.strip() and article.text.strip()


def parse_or_refuse(data: bytes, name: str) -> Article | LoadError:
    """The article, or the LoadError naming the file; any other exception fails the test."""
    try:
        article = parse_bytes(data, name)
    except LoadError as exc:
        assert exc.path == name and exc.ja and exc.en and exc.status == 422
        return exc
    assert_clean(article)
    return article


# 1. Any parser failure is a LoadError, and load_paths goes on.


@pytest.mark.parametrize(
    "front",
    [
        "---\ntitle: [unclosed\n---\n本文",
        "---\ntitle: a\n\tsource: b\n---\n本文",
        "---\ntitle: !!python/object/apply:os.system ['echo hi']\n---\n本文",
        "---\ntitle: " + "[" * 20_000 + "]" * 20_000 + "\n---\n本文",
    ],
)
def test_broken_front_matter_is_a_load_error(front: str):
    with pytest.raises(LoadError) as info:
        parse_bytes(front.encode(), "broken.md")
    assert "YAML フロントマターを読めません" in info.value.ja and "front matter" in info.value.en


def test_front_matter_keeps_only_scalars_so_alias_bombs_cost_nothing():
    laughs = "".join(
        f"{k}: &{k} [{', '.join([f'*{p}' if p else 'lol'] * 9)}]\n"
        for p, k in zip(["", *"abcdefg"], "abcdefgh")
    )
    article = parse_bytes(
        f"---\n{laughs}title: *h\nsource: *h\n---\n# 見出し\n本文".encode(), "bomb.md"
    )
    assert (article.title, article.source) == ("見出し", "")


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), RecursionError("too deep"), KeyError("x"), TypeError("t")]
)
def test_any_exception_of_a_parser_becomes_a_load_error_naming_the_file(
    monkeypatch, error: Exception
):
    def explode(data: bytes, name: str) -> dict:
        raise error

    monkeypatch.setitem(loaders.PARSERS, ".html", explode)
    with pytest.raises(LoadError) as info:
        parse_bytes(b"<p>x</p>", "page.html")
    assert info.value.path == "page.html" and "HTML" in info.value.ja and "HTML" in info.value.en


def _pdf_with_broken(part: str) -> bytes:
    good = make_pdf(["Hello page one", "Second page"], b"/Title (Report)")
    return {
        "trailer": re.sub(
            rb"trailer\n<< /Size \d+ /Root ", b"trailer\n", good
        ),  # AttributeError in pypdf
        "xref size": re.sub(rb"xref\n0 \d+", b"xref\n0 900000000", good),  # LimitReachedError
        "xref entry": good.replace(b"\n0000000009 00000 n", b"\n<< 0000009 00000 n"),
        "xref offset": re.sub(rb"\n0000000009 00000 n", b"\n0000099999 00000 n", good),
        "truncated": good[: len(good) * 2 // 3],
        "no xref": good[: good.index(b"xref")],
        "nested info": make_pdf(["x"], b"/Title " + b"[" * 50_000 + b"]" * 50_000),
    }[part]


@pytest.mark.parametrize(
    "part",
    ["trailer", "xref size", "xref entry", "xref offset", "truncated", "no xref", "nested info"],
)
def test_a_broken_pdf_is_a_load_error_or_an_article(part: str):
    outcome = parse_or_refuse(_pdf_with_broken(part), "broken.pdf")
    if isinstance(outcome, LoadError):
        assert "PDF" in outcome.ja
    else:
        assert "Hello page one" in outcome.text or outcome.text.strip() == "x"


def test_broken_files_are_skipped_and_the_rest_still_load(tmp_path: Path):
    (tmp_path / "good.txt").write_text("良い記事\n本文。", "utf-8")
    (tmp_path / "front.md").write_text("---\ntitle: [unclosed\n---\n本文", "utf-8")
    (tmp_path / "trailer.pdf").write_bytes(_pdf_with_broken("trailer"))
    (tmp_path / "xref.pdf").write_bytes(_pdf_with_broken("xref size"))
    (tmp_path / "huge.txt").write_text("長" * (MAX_CHARS + 1), "utf-8")
    loaded = load_paths([tmp_path])
    assert [a.title for a in loaded.articles] == ["良い記事"]
    assert sorted(Path(e.path).name for e in loaded.errors) == [
        "front.md",
        "huge.txt",
        "trailer.pdf",
        "xref.pdf",
    ]


# 2. Huge input is refused quickly, with the limit in the message.


@pytest.mark.parametrize(
    "name,body",
    [
        ("huge.txt", "あ" * 1_000_000),
        ("huge.md", "# 題\n" + "あ" * 1_000_000),
        ("huge.html", "<html><body><p>" + "あ" * 1_000_000 + "</p></body></html>"),
    ],
)
def test_an_article_over_the_character_limit_is_refused_quickly(name: str, body: str):
    start = time.perf_counter()
    with pytest.raises(LoadError) as info:
        parse_bytes(body.encode(), name)
    assert time.perf_counter() - start < 3
    assert (
        "記事が長すぎます" in info.value.ja
        and "300,000" in info.value.ja
        and "分けて" in info.value.ja
    )
    assert "300,000" in info.value.en and "split" in info.value.en


def test_a_file_over_the_byte_limit_is_refused_with_the_limit():
    with pytest.raises(LoadError) as info:
        parse_bytes(b"a" * (MAX_BYTES + 1), "huge.txt")
    assert f"{MAX_BYTES:,}" in info.value.ja and "split" in info.value.en


def test_an_article_at_the_character_limit_loads():
    article = parse_bytes(("題\n" + "あ" * (MAX_CHARS - 2)).encode(), "limit.txt")
    assert len(article.text) == MAX_CHARS and article.title == "題"


def test_a_pdf_with_thousands_of_pages_is_refused_in_bounded_time():
    start = time.perf_counter()
    with pytest.raises(LoadError) as info:
        parse_bytes(make_pdf(["p"] * 3000), "thick.pdf")
    assert time.perf_counter() - start < 5
    assert (
        "3,000 ページ" in info.value.ja
        and f"{MAX_PDF_PAGES:,}" in info.value.ja
        and "split" in info.value.en
    )


def test_a_pdf_at_the_page_limit_loads_every_page():
    article = parse_bytes(make_pdf([f"page {i}" for i in range(MAX_PDF_PAGES)]), "many.pdf")
    assert "page 0\n\npage 1" in article.text and article.text.rstrip().endswith(
        f"page {MAX_PDF_PAGES - 1}"
    )


def test_a_pdf_text_and_info_are_read_and_a_bad_date_ignored():
    info = b"/Title (Annual Report) /Author (City Hall) /CreationDate (D:20230199120000)"
    article = parse_bytes(make_pdf(["Hello page one", "Second page"], info), "report.pdf")
    assert (article.title, article.source, article.published) == (
        "Annual Report",
        "City Hall",
        None,
    )
    assert article.text == "Hello page one\n\nSecond page"


@pytest.mark.parametrize(
    "open_tag,close_tag", [("<div>", "</div>"), ("<b>", "</b>"), ("<div>", "")]
)
def test_deeply_nested_html_is_read_without_recursion(open_tag: str, close_tag: str):
    depth = 100_000
    html = f"<html><body>{open_tag * depth}<p>深い本文</p>{close_tag * depth}</body></html>"
    start = time.perf_counter()
    article = parse_bytes(html.encode(), "deep.html")
    assert time.perf_counter() - start < 10
    assert article.text == "深い本文\n"


def test_a_markdown_heading_full_of_spaces_is_read_in_linear_time():
    start = time.perf_counter()
    article = parse_bytes(("# a" + " " * 3000 + "b\n本文").encode(), "spaces.md")
    assert time.perf_counter() - start < 1
    assert (
        article.title.startswith("a ")
        and article.title.endswith("…")
        and len(article.title) == TITLE_MAX
    )


# 2. Control characters, surrogates, emoji and combining marks.


def test_clean_text_strips_controls_and_keeps_line_breaks():
    assert clean_text("頁1\f頁2\v行\r\n行\r古い\x85次\u2028終") == "頁1\n頁2\n行\n行\n古い\n次\n終"
    assert clean_text("\x1b[31m赤\x1b[0m\x1b字\x07\x7f\x9b") == "赤字"
    assert clean_text("窓口\u200bDX\ufeff\u2060") == "窓口DX"
    assert clean_text("タブ\tと\n改行") == "タブ\tと\n改行"
    assert clean_text("A\ud800B\ud83d\ude00") == "A\ufffdB😀"


def test_control_characters_are_removed_from_every_field():
    data = '---\ntitle: "題\\a名\\e[1m"\nsource: "広\\x0c報\\ud800"\n---\n本\x0c文\x0b次\x1b[0m\u200bです\x7f'.encode()
    article = parse_bytes(data, "ctrl.md")
    assert_clean(article)
    assert (article.title, article.source) == ("題名", "広 報\ufffd")
    assert article.text == "本\n文\n次です"


def test_html_character_references_to_controls_and_surrogates_are_cleaned():
    html = b"<title>A&#xD800;B&#x1b;</title><meta property='og:site_name' content='a\nb'><p>x&#12;y&#xDC00;z</p>"
    article = parse_bytes(html, "refs.html")
    assert_clean(article)
    assert article.source == "a b" and "x\ny" in article.text


def test_a_nul_in_a_text_file_still_means_binary():
    with pytest.raises(LoadError, match="バイナリ"):
        parse_bytes("題\n本\x00文".encode(), "nul.txt")


@pytest.mark.parametrize("name", ["emoji.txt", "emoji.md", "emoji.html"])
def test_emoji_and_combining_marks_are_kept_as_given(name: str):
    body = "か\u3099きく👨\u200d👩\u200d👧と🏛\ufe0fと\U0001f1ef\U0001f1f5"
    data = (
        f"<title>{body}</title><p>{body}</p>" if name.endswith(".html") else f"{body}\n{body}。"
    ).encode()
    article = parse_bytes(data, name)
    assert body in article.text and article.title == body


# 2. File names.


@pytest.mark.parametrize(
    "name,title",
    [
        (".html", ".html"),
        ("REPORT.HTML", "REPORT"),
        ("../up.html", "up"),
        ("..html", "..html"),
        ("a\x00b.html", "ab"),
        ("長" * 300 + ".html", "長" * (TITLE_MAX - 1) + "…"),
        ("報告\x1b.HTM", "報告"),
    ],
)
def test_a_page_without_a_title_is_named_after_its_file(name: str, title: str):
    assert parse_bytes("<p>本文</p>".encode(), name).title == title


@pytest.mark.parametrize(
    "name", [".txt", "REPORT.TXT", "../x.txt", "a\x00.txt", "あ" * 300 + ".txt"]
)
def test_odd_text_file_names_load_with_the_title_from_the_text(name: str):
    article = parse_bytes("題名\n本文".encode(), name, key=name)
    assert (article.title, article.text) == ("題名", "題名\n本文")


@pytest.mark.parametrize("name", ["..", "", "noext", "x.", "dir.d/noext"])
def test_names_without_a_suffix_are_refused(name: str):
    with pytest.raises(LoadError, match="対応していない形式"):
        parse_bytes(b"text", name)


def test_unreadable_paths_are_load_errors(tmp_path: Path):
    for path in (
        tmp_path / "a\x00b.txt",
        tmp_path / ("長" * 100 + ".txt"),
        tmp_path / "missing.txt",
    ):
        with pytest.raises(LoadError, match="読めません"):
            load_file(path)


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_load(tmp_path: Path):
    try:
        fd = os.open(os.path.join(os.fsencode(tmp_path), b"bad\xff.txt"), os.O_WRONLY | os.O_CREAT)
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    os.write(fd, "題\n本文".encode())
    os.close(fd)
    (tmp_path / "good.txt").write_text("良い\n本文", "utf-8")
    loaded = load_paths([tmp_path])
    assert [a.title for a in loaded.articles] == ["良い"]
    [error] = loaded.errors
    assert "UTF-8" in error.ja and "rename" in error.en
    error.path.encode("utf-8")


# 3. Properties: any bytes, any text, under every suffix.

SUFFIXES = [".txt", ".md", ".html", ".pdf"]


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_a_clean_article_or_a_load_error(suffix: str, data: bytes):
    parse_or_refuse(data, f"fuzz{suffix}")


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=150, deadline=None)
@given(text=st.text())
def test_any_text_gives_a_clean_article_or_a_load_error(suffix: str, text: str):
    parse_or_refuse(text.encode("utf-8"), f"fuzz{suffix}")


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_clean_text_leaves_no_controls_or_surrogates_and_is_idempotent(text: str):
    cleaned = clean_text(text)
    cleaned.encode("utf-8")
    assert not [c for c in cleaned if unicodedata.category(c) == "Cc" and c not in "\t\n"]
    assert clean_text(cleaned) == cleaned
