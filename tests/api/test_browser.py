"""Debian's Chromium through Playwright: the widget on another origin, the search page, and article text that tries XSS."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from browserkit import shot, widget_root

QUERY = "窓口キャッシュレス"
IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
XSS_TITLE = "<b onmouseover=window.__xss=1>なでしこ町</b>の電子回覧板"
XSS_BODY = (
    f"なでしこ町の電子回覧板は {IMG} と {SCRIPT} をそのまま文字として表示しなければならない。"
)


def test_widget_on_another_origin(page, server, host_site):
    host = host_site[0]
    assert urlsplit(host).port != urlsplit(server).port
    page.goto(host + "/")
    widget = widget_root(page)
    box = widget.get_by_role("combobox")
    box.click()
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    widget.locator("li.hit").first.wait_for()
    assert widget.locator("li.hit").count() == 5
    assert "宇佐市" in widget.locator("li.hit").first.inner_text()
    assert widget.locator("mark").count() > 0
    chips = widget.locator("button.chip")
    assert chips.count() > 0 and "宇佐市" in " ".join(chips.all_inner_texts())
    assert "根拠" in chips.first.get_attribute("aria-label")
    assert page.evaluate("document.getElementById('dx-search').shadowRoot !== null")
    # the host page's own styles do not leak in: its !important magenta stays outside the shadow root
    color = widget.locator("li.hit").first.evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(255, 0, 255)"
    usa = chips.filter(has_text="宇佐市").first
    usa.focus()
    page.keyboard.press("Enter")
    widget.locator('button.chip[aria-pressed="true"]').wait_for()
    assert all("宇佐市" in t for t in widget.locator("li.hit").all_inner_texts())
    assert "文章" in widget.get_by_role("status").inner_text()
    shot(page, "widget.png")


def test_search_page(page, server):
    page.goto(server + "/")
    assert page.title() == "自治体DX 事例検索"
    page.get_by_label("検索語").focus()
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    page.locator("#passages li.passage").first.wait_for()
    status = page.get_by_role("status")
    assert re.search(r"文章 10 件、自治体 \d+ 件", status.inner_text())
    assert page.locator("#passages li.passage").count() == 10
    first = page.locator("#passages li.passage").first
    assert "宇佐市" in first.inner_text() and first.locator("mark").count() > 0
    assert any("キャッシュレス" in t for t in first.locator("mark").all_inner_texts())
    chips = page.locator("#places button.chip")
    assert chips.count() > 0 and "宇佐市" in " ".join(chips.all_inner_texts())
    assert page.locator("#map svg path.pref").count() == 47
    assert page.locator("#map svg circle.dot").count() > 0
    assert "宇佐市" in page.locator("#map").get_attribute("aria-label")
    shot(page, "page.png")

    usa = chips.filter(has_text="宇佐市").first
    usa.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("location.search.includes('municipality=')")
    page.locator("#active-filter:not([hidden])").wait_for()
    page.wait_for_function("document.querySelector('#status').textContent.includes('検索結果')")
    assert "宇佐市" in page.locator("#active-filter-label").inner_text()
    assert all("宇佐市" in t for t in page.locator("#passages li.passage").all_inner_texts())
    shot(page, "page-filtered.png")

    page.get_by_label("都道府県").select_option("東京都")
    page.get_by_role("button", name="絞り込みを解除").click()
    page.wait_for_function(
        "!location.search.includes('municipality=') && location.search.includes('prefecture=')"
    )
    page.wait_for_function("document.querySelector('#status').textContent.includes('検索結果')")
    texts = page.locator("#passages li.passage").all_inner_texts()
    assert texts and all("東京都" in t for t in texts)  # every passage names a place in 東京都


def test_search_page_marks_whole_words_not_particle_fragments(page, server):
    page.goto(server + "/?q=" + "窓口サービスの事業の事例")
    page.locator("#passages li.passage").first.wait_for()
    marks = page.locator("#passages mark").all_inner_texts()
    assert marks and any("窓口" in m or "サービス" in m or "事業" in m for m in marks)
    particles = "のはがをにでともへや"
    assert not [m for m in marks if m[0] in particles or m[-1] in particles], marks
    shot(page, "highlights.png")


def test_search_page_shows_api_errors_in_japanese(page, server):
    page.goto(server + "/?q=" + "窓" * 1001)
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "長すぎます" in alert.inner_text()


def test_swagger_ui_renders_offline(page, server):
    page.goto(server + "/docs")
    page.locator(".swagger-ui .information-container").wait_for()
    assert page.locator(".opblock-summary-path", has_text="/search").count() >= 1


@pytest.fixture(scope="module")
def xss_article(client, auth):
    added = client.post(
        "/articles", json={"title": XSS_TITLE, "body": XSS_BODY, "source": "XSS検証"}, headers=auth
    )
    assert added.status_code == 201, added.text
    yield added.json()["id"]
    client.delete(f"/articles/{added.json()['id']}", headers=auth)


def test_article_html_stays_text_on_the_page(page, server, xss_article):
    page.goto(server + "/")
    page.get_by_label("検索語").fill("なでしこ町の電子回覧板")
    page.get_by_label("検索語").press("Enter")
    first = page.locator("#passages li.passage").first
    first.wait_for()
    page.wait_for_timeout(300)
    text = first.inner_text()
    assert IMG in text and SCRIPT in text and XSS_TITLE in text
    assert first.locator("img, script, b").count() == 0
    first.locator(".passage-title").hover()
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "xss-page.png")


def test_article_html_stays_text_in_thewidget_root(page, host_site, xss_article):
    page.goto(host_site[0] + "/")
    widget = widget_root(page)
    widget.get_by_role("combobox").fill("なでしこ町の電子回覧板")
    widget.get_by_role("combobox").press("Enter")
    first = widget.locator("li.hit").first
    first.wait_for()
    page.wait_for_timeout(300)
    text = first.inner_text()
    assert IMG in text and SCRIPT in text and XSS_TITLE in text
    assert first.locator("img, script, b").count() == 0
    first.hover()
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "xss-widget.png")


def test_search_page_says_what_it_added_and_links_to_the_words_alone(page, server):
    page.goto(server + "/?q=" + "マイナカードの活用")
    page.locator("#passages li.passage").first.wait_for()
    note = page.locator("#expanded")
    note.wait_for()
    assert "「マイナンバーカード」も含めて検索しました" in note.inner_text()
    assert page.locator("#passages mark", has_text="マイナンバーカード").count() > 0
    link = note.get_by_role("link", name="「マイナカードの活用」の語だけで検索")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"expand=false"))
    page.wait_for_function(
        "document.getElementById('expanded').textContent.includes('入力した語だけで検索しました')"
    )
    assert page.locator("#passages mark", has_text="マイナンバーカード").count() == 0
    page.get_by_role("link", name="同義語・表記ゆれも含めて検索").click()
    page.wait_for_function("!location.search.includes('expand=false')")
    page.wait_for_function(
        "document.getElementById('expanded').textContent.includes('も含めて検索しました')"
    )
