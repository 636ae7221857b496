"""Debian's Chromium: 「この検索を保存」 gives a working feed URL, and 新着 marks the answers that arrived after the
last visit to the same search; the admin page draws the search log's chart. A server of its own (it writes)."""

from __future__ import annotations

import shutil
from urllib.parse import urlencode

import feedparser
import httpx
import pytest

QUERY = "窓口キャッシュレスの事例"
NEW = {
    "title": "宇佐市、窓口でキャッシュレス決済を導入",
    "body": "大分県宇佐市は市役所の窓口で住民票の写しなどの手数料をキャッシュレス決済で支払えるようにした。"
    "窓口キャッシュレス化の事例として他の自治体からの視察も多い。",
    "source": "テスト通信",
    "published": "2026-11-20",
}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory, bundled_index, embedder, gazetteer, api_settings, start_server):
    from search.engine import Engine

    root = tmp_path_factory.mktemp("saved-page") / "index"
    shutil.copytree(bundled_index, root, symlinks=True)
    settings = api_settings.model_copy(update={"index_dir": root, "cors_origins": []})
    with start_server(settings, Engine(root, embedder, gazetteer)) as base:
        yield base


def _open(page, base):
    page.goto(base + "/?" + urlencode({"q": QUERY}))
    page.locator("#passages li.passage").first.wait_for()


def test_save_this_search_and_new_marks(page, own_server, auth):
    _open(page, own_server)
    assert page.locator(".new-badge").count() == 0  # the first visit marks nothing
    page.once("dialog", lambda dialog: dialog.accept("窓口キャッシュレスの新着"))
    page.get_by_role("button", name="この検索を保存").click()
    page.locator("#saved-box").wait_for(state="visible")
    feed_url = page.locator("#feed-url").input_value()
    assert feed_url.startswith(own_server + "/saved-searches/") and feed_url.endswith("/feed.atom")
    with httpx.Client(timeout=120) as http:
        assert http.post(own_server + "/articles", json=NEW, headers=auth).status_code == 201
        parsed = feedparser.parse(http.get(feed_url).content)
    assert not parsed.bozo and [e.title for e in parsed.entries] == [NEW["title"]]
    _open(page, own_server)  # the second visit: the new article is marked, the others are not
    marked = page.locator("li.passage:has(.new-badge) .passage-title")
    assert marked.count() >= 1
    assert all(NEW["title"] in t for t in marked.all_inner_texts())
    _open(page, own_server)  # the third visit: nothing new any more
    assert page.locator(".new-badge").count() == 0


def test_admin_page_draws_the_chart(page, own_server, auth):
    with httpx.Client(timeout=120) as http:
        for q in ("電子申請", "電子申請", "RPA"):
            assert http.get(own_server + "/search", params={"q": q}).status_code == 200
    page.goto(own_server + "/admin")
    page.get_by_label("書き込み用 API キー").fill(auth["Authorization"].split(" ", 1)[1])
    page.get_by_role("button", name="集計する").click()
    page.locator("#chart svg rect.bar").first.wait_for()
    assert "検索" in page.locator("#status").inner_text()
    cells = page.locator("#top_queries td").all_inner_texts()
    assert ("電子申請", "2") in set(zip(cells[::2], cells[1::2]))
