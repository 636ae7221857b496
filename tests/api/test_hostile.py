"""Hostile and huge input on the real server: each a clear 4xx (JSON, ja and en) or an indexed article, never a
5xx, and the server keeps answering."""

from __future__ import annotations

import json

import httpx
import pytest


def _after(client) -> None:
    assert client.get("/health").status_code == 200


def test_a_100_mb_upload_is_refused_by_the_body_limit(client, auth, assert_error):
    big = b"a" * (100 * 1024 * 1024)
    assert_error(
        client.post("/articles", files={"file": ("big.txt", big)}, headers=auth), 413, "body"
    )

    def stream():
        for _ in range(100):
            yield b"b" * (1024 * 1024)

    streamed = client.post(
        "/articles", content=stream(), headers={**auth, "content-type": "application/json"}
    )
    assert_error(streamed, 413, "body")
    _after(client)


def test_a_million_character_article_is_refused_with_its_limit(client, auth, assert_error):
    too_long = {
        "title": "長い記事",
        "body": "a" * 400_000,
    }  # under the 1 MB body limit, over the article limit
    error = assert_error(client.post("/articles", json=too_long, headers=auth), 422, "body")
    assert "300000" in error["ja"] + error["en"]
    huge = {
        "title": "とても長い記事",
        "body": "あ" * 1_000_000,
    }  # 3 MB of UTF-8: the body limit refuses it first
    assert_error(client.post("/articles", json=huge, headers=auth), 413, "body")
    page = ("巨大な記事\n\n" + "ひまわり町は申請を電子化した。" * 70_000).encode()
    assert_error(client.post("/articles", files={"file": ("huge.txt", page)}, headers=auth), 413)
    _after(client)


@pytest.mark.parametrize("field", ["title", "body", "source", "url", "published"])
@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800", "\\udfff", "\\u001b[31m", "\\u0007"])
def test_control_characters_and_lone_surrogates_in_every_field_are_422(
    client, auth, assert_error, field, bad
):
    fields = {"title": "題", "body": "本文です。", "source": "", "url": "", "published": None}
    raw = json.dumps(fields, ensure_ascii=False)
    raw = raw.replace(
        f'"{field}": ' + json.dumps(fields[field], ensure_ascii=False), f'"{field}": "x{bad}y"'
    )
    response = client.post(
        "/articles",
        content=raw.encode("utf-8"),
        headers={**auth, "content-type": "application/json"},
    )
    error = assert_error(response, 422)
    # the JSON parser itself refuses a lone surrogate escape (the whole body is invalid JSON)
    assert (
        error["field"] == field
        or ("\\ud" in bad or "\\udf" in bad)
        and error["code"] == "invalid_json"
    ), error
    _after(client)


@pytest.mark.parametrize("query", ["%ED%A0%80", "%FF%FE", "%00", "%C0%AF", "a%0Ab", "%E3%81"])
def test_broken_percent_encoding_in_the_query_is_a_4xx(server, query):
    with httpx.Client() as raw:
        for key in ("q", "prefecture", "source", "municipality", "date_from"):
            url = (
                f"{server}/search?q=%E7%AA%93%E5%8F%A3&{key}={query}"
                if key != "q"
                else f"{server}/search?q={query}"
            )
            response = raw.get(url)
            assert response.status_code < 500, (url, response.text)


@pytest.mark.parametrize(
    "path",
    [
        "/articles/%2E%2E",
        "/articles/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/articles/a%00b",
        "/articles/" + "x" * 5000,
        "/articles/%F0%9F%8F%9B",
    ],
)
def test_hostile_ids_are_404(server, assert_error, path):
    with httpx.Client() as raw:
        response = raw.get(server + path)
    assert response.status_code in (404, 422), response.text
    assert_error(response, response.status_code)


def test_emoji_and_combining_marks_are_indexed_as_text(client, auth):
    body = "🏛️ みらい市は👨‍👩‍👧子育て窓口をひらいた。か\u3099っこうの申請もオンラインになった。"
    added = client.post(
        "/articles", json={"title": "みらい市の子育て窓口🏛️", "body": body}, headers=auth
    )
    assert added.status_code == 201, added.text
    try:
        article = client.get(f"/articles/{added.json()['id']}").json()
        assert article["text"] == body
        top = client.get("/search", params={"q": "みらい市の子育て窓口", "k": 1}).json()[
            "passages"
        ][0]
        assert top["article_id"] == added.json()["id"]
    finally:
        client.delete(f"/articles/{added.json()['id']}", headers=auth)


def test_deeply_nested_html_upload_is_an_article_or_a_clear_422(client, auth):
    depth = 20000
    page = (
        "<html><body>"
        + "<div>" * depth
        + "<p>ねむのき町は深い入れ子のページでも検索できる。</p>"
        + "</div>" * depth
        + "</body></html>"
    ).encode()
    response = client.post("/articles", files={"file": ("nested.html", page)}, headers=auth)
    assert response.status_code in (201, 422), response.text[:300]
    if response.status_code == 201:
        client.delete(f"/articles/{response.json()['id']}", headers=auth)
    _after(client)
