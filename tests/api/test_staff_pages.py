"""Debian's Chromium through Playwright: the staff views of the search page (deep links, facets, a municipality's
cases, similar cases, CSV) and the widget's similar cases and CSV link, against the real server on loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from browserkit import shot, widget_root

QUERY = "窓口キャッシュレス"
READ_KEY = "read-key-for-staff-pages"
USA = "442119"  # 宇佐市（大分県）
TOKYO = "130001"  # 東京都: enough passages to page through
HAMAMATSU_CHUO = "221384"  # 浜松市中央区: holds the former names 浜松市中区, 浜松市東区, …
BOM = [0xEF, 0xBB, 0xBF]


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _settled(page) -> None:
    """The view's load finished: nothing is busy and the status no longer says it is loading."""
    page.wait_for_function(
        "!document.querySelector('#search-form').hasAttribute('aria-busy')"
        " && document.querySelector('#status').textContent !== ''"
        " && !document.querySelector('#status').textContent.endsWith('…')"
    )


def _search(page, server, **params) -> None:
    page.goto(server + "/?" + urlencode({"q": QUERY, **params}))
    page.locator("#passages li.passage").first.wait_for()
    _settled(page)


def _fetch_bytes(page, url: str, headers: dict | None = None) -> dict:
    """The first bytes and the headers of a GET made by the page itself (so CORS and the page's origin apply)."""
    return page.evaluate(
        """async ([url, headers]) => {
        const response = await fetch(url, { headers, credentials: "omit" });
        const bytes = new Uint8Array(await response.arrayBuffer());
        return { status: response.status, type: response.headers.get("content-type"),
                 disposition: response.headers.get("content-disposition"),
                 head: Array.from(bytes.slice(0, 3)), text: new TextDecoder().decode(bytes.slice(3)) };
    }""",
        [url, headers or {}],
    )


# ------------------------------------------------------------------ search: deep links, facets, CSV


def test_deep_link_to_a_search_shows_results_and_facets(page, server):
    _search(page, server, k="5", mode="lexical")
    assert page.locator("#passages li.passage").count() == 5
    assert page.get_by_label("検索語").input_value() == QUERY
    assert (
        page.locator("#k").input_value() == "5" and page.locator("#mode").input_value() == "lexical"
    )
    assert "文章 5 件" in page.get_by_role("status").inner_text()
    assert page.locator("#facets").is_visible()
    hint = page.locator("#facets-hint").inner_text()
    assert "質問に関連する上位" in hint and any(c.isdigit() for c in hint)
    for group in ("prefecture", "source", "year"):
        assert page.locator(f"#facet-{group} button.facet").count() > 0, group
    assert (
        page.locator("#facet-prefecture button.facet:visible").count() <= 10
    )  # then 「ほか N 件を表示」
    years = page.locator("#facet-year button.facet").evaluate_all(
        "bs => bs.map(b => b.dataset.value)"
    )
    assert all(len(y) == 4 and y.isdigit() for y in years), years
    assert page.locator('#facets button[aria-pressed="true"]').count() == 0
    shot(page, "facets.png")


def test_clicking_facets_filters_and_an_active_filter_can_be_cleared(page, server):
    _search(page, server)
    source = page.locator("#facet-source button.facet").first
    name = source.get_attribute("data-value")
    source.click()
    page.locator('#facet-source button.facet[aria-pressed="true"]').wait_for()
    _settled(page)
    assert _query(page)["source"] == [name]
    assert page.locator("#source").input_value() == name
    sources = page.locator("#passages .passage-meta .source").all_inner_texts()
    assert sources and set(sources) == {name}
    assert page.locator("#active-facet-list button.active-chip").count() == 1

    year = page.locator("#facet-year button.facet").first.get_attribute("data-value")
    page.locator("#facet-year button.facet").first.click()
    page.locator('#facet-year button.facet[aria-pressed="true"]').wait_for()
    _settled(page)
    assert _query(page)["date_from"] == [f"{year}-01-01"] and _query(page)["date_to"] == [
        f"{year}-12-31"
    ]
    dates = page.locator("#passages .passage-meta time").evaluate_all(
        "ts => ts.map(t => t.dateTime)"
    )
    assert dates and all(d.startswith(year) for d in dates)
    assert page.locator("#passages li.passage").count() == len(
        dates
    )  # no undated passage passes a year

    # lifting the source filter keeps the year
    page.locator('#active-facet-list button[data-facet="source"]').click()
    page.wait_for_function("!location.search.includes('source=')")
    page.locator('#facet-year button.facet[aria-pressed="true"]').wait_for()
    _settled(page)
    assert "source" not in _query(page) and _query(page)["date_from"] == [f"{year}-01-01"]
    assert page.locator("#source").input_value() == ""

    # a prefecture: every passage names a place in it
    page.goto(server + "/?" + urlencode({"q": QUERY}))
    page.locator("#facet-prefecture button.facet").first.wait_for()
    _settled(page)
    more = page.locator("#facet-prefecture button.facet-more")
    if more.count():  # long groups show their first values only
        more.click()
        assert more.get_attribute("aria-expanded") == "true"
    pref = page.locator('#facet-prefecture button.facet[data-value="東京都"]')
    pref.click()
    page.locator('#facet-prefecture button.facet[aria-pressed="true"]').wait_for()
    _settled(page)
    assert page.get_by_label("都道府県").input_value() == "東京都"
    texts = page.locator("#passages li.passage").all_inner_texts()
    assert texts and all("東京都" in t for t in texts)


def test_csv_button_downloads_the_current_search(page, server):
    _search(page, server, k="5", source="Hot Topics")
    button = page.get_by_role("link", name="CSV で保存")
    assert button.is_visible() and button.get_attribute("download") is not None
    href = button.get_attribute("href")
    params = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/search" and params["format"] == ["csv"]
    assert params["q"] == [QUERY] and params["k"] == ["5"] and params["source"] == ["Hot Topics"]
    got = _fetch_bytes(page, href)
    assert got["status"] == 200 and got["type"].startswith("text/csv")
    assert "attachment" in got["disposition"]
    assert got["head"] == BOM
    lines = got["text"].splitlines()
    assert lines[0].startswith("順位 rank,スコア score,題名 title,掲載元 source")
    assert lines[1].startswith("1,") and "Hot Topics" in lines[1]

    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    assert list(Path(download.path()).read_bytes()[:3]) == BOM
    button.focus()
    shot(page, "csv_button.png")


@pytest.fixture(scope="module")
def read_key_server(start_server, api_settings, api_engine):
    with start_server(api_settings.model_copy(update={"read_key": READ_KEY}), api_engine) as base:
        yield base


def test_with_a_read_key_the_csv_is_fetched_with_it(page, read_key_server):
    page.goto(read_key_server + "/?" + urlencode({"q": QUERY, "k": "3"}))
    key = page.get_by_label("閲覧キー")
    key.wait_for()
    key.fill(READ_KEY)
    key.press("Enter")
    key.blur()
    page.locator("#passages li.passage").first.wait_for()
    _settled(page)
    assert page.evaluate("sessionStorage.getItem('jsearch-read-key')") == READ_KEY
    assert (
        _fetch_bytes(page, page.locator("#csv").get_attribute("href"))["status"] == 401
    )  # the bare link is refused
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV で保存").click()
    download = info.value
    assert download.suggested_filename == f"jsearch-{QUERY}.csv"  # the name from filename*
    data = Path(download.path()).read_bytes()
    assert list(data[:3]) == BOM and data[3:].decode("utf-8").startswith("順位 rank")


# ------------------------------------------------------------------ a municipality's cases


def test_a_municipality_chip_opens_its_page_and_back_returns(page, server):
    _search(page, server)
    page.locator(f'#passages a.tag[data-code="{USA}"]').first.click()
    page.wait_for_function(f"location.search === '?m={USA}'")
    view = page.locator("#place-view")
    view.wait_for()
    _settled(page)
    assert page.locator("#results").is_hidden()
    assert page.locator("#place-heading").inner_text() == "宇佐市の事例"
    assert page.title().startswith("宇佐市の事例")
    assert "大分県" in page.locator("#place-facts").inner_text()
    passages = view.locator("li.passage")
    assert passages.count() >= 1
    assert all("宇佐市" in t for t in passages.all_inner_texts())
    assert "宇佐市" in view.locator("mark").all_inner_texts()
    assert view.locator("#place-subject .role-badge").first.inner_text() == "取り組みの主体"
    assert view.locator("a.similar-link").count() == passages.count()
    assert view.locator("#place-back").is_visible()
    shot(page, "municipality_page.png")

    page.go_back()
    page.wait_for_function("new URLSearchParams(location.search).get('q') !== null")
    page.locator("#results:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#place-view").is_hidden()
    assert page.get_by_label("検索語").input_value() == QUERY
    assert page.locator("#passages li.passage").count() == 10

    page.go_forward()
    page.wait_for_function(f"location.search === '?m={USA}'")
    page.locator("#place-view:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#place-heading").inner_text() == "宇佐市の事例"

    # the ranked municipalities: the chip still narrows the search, its 「事例」 opens the page
    page.go_back()
    page.locator("#results:not([hidden])").wait_for()
    _settled(page)
    page.locator(f'#places a.chip-open[data-code="{USA}"]').click()
    page.wait_for_function(f"location.search === '?m={USA}'")
    page.locator("#place-view:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#place-heading").inner_text() == "宇佐市の事例"


def test_municipality_page_pages_and_shows_former_names(page, server):
    page.goto(f"{server}/?m={TOKYO}&limit=2")
    page.locator("#place-view:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#place-heading").inner_text() == "東京都の事例"
    first_ids = page.locator("#place-view li.passage").evaluate_all(
        "ls => ls.map(l => l.dataset.id)"
    )
    assert len(first_ids) == 2
    assert page.get_by_role("link", name="前へ").is_hidden()
    page.get_by_role("link", name="次へ").click()
    page.wait_for_function("location.search.includes('offset=2')")
    _settled(page)
    assert page.locator("#place-range").inner_text().startswith("3〜4 件目")
    second_ids = page.locator("#place-view li.passage").evaluate_all(
        "ls => ls.map(l => l.dataset.id)"
    )
    assert second_ids and not set(second_ids) & set(first_ids)
    assert page.get_by_role("link", name="前へ").is_visible()
    page.get_by_role("link", name="前へ").click()
    page.wait_for_function("!location.search.includes('offset=')")
    _settled(page)
    assert (
        page.locator("#place-view li.passage").evaluate_all("ls => ls.map(l => l.dataset.id)")
        == first_ids
    )

    page.goto(f"{server}/?m={HAMAMATSU_CHUO}")
    page.locator("#place-view:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#place-heading").inner_text() == "浜松市中央区の事例"
    assert "浜松市中区" in page.locator("#place-facts .fact-former").inner_text()

    page.goto(f"{server}/?m=12345")  # malformed: the API's Japanese error
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "団体コード" in alert.inner_text()
    assert page.locator("#place-view").is_hidden()


# ------------------------------------------------------------------ similar cases


def test_similar_cases_come_from_other_articles(page, server):
    _search(page, server)
    first = page.locator("#passages li.passage").first
    source_id, source_article = first.get_attribute("data-id"), first.get_attribute("data-article")
    first.get_by_role("link", name="似た事例").click()
    page.wait_for_function("location.search.startsWith('?similar=')")
    page.locator("#similar-view:not([hidden])").wait_for()
    _settled(page)
    assert _query(page)["similar"] == [source_id]
    assert page.locator("#similar-source li.passage").get_attribute("data-id") == source_id
    assert page.locator("#similar-source a.similar-link").count() == 0
    similar = page.locator("#similar-list li.passage")
    assert similar.count() > 0
    articles = similar.evaluate_all("ls => ls.map(l => l.dataset.article)")
    assert source_article not in articles
    assert page.locator("#similar-places a.chip").count() > 0
    assert page.locator("#similar-back").is_visible()
    shot(page, "similar_cases.png")

    # a similar case's place opens its page; back twice returns to the search
    place = page.locator("#similar-places a.chip").first
    code = place.get_attribute("data-code")
    place.click()
    page.wait_for_function(f"location.search === '?m={code}'")
    page.locator("#place-view:not([hidden])").wait_for()
    page.go_back()
    page.locator("#similar-view:not([hidden])").wait_for()
    page.go_back()
    page.locator("#results:not([hidden])").wait_for()
    _settled(page)
    assert page.locator("#similar-view").is_hidden() and _query(page)["q"] == [QUERY]


def test_similar_cases_deep_link_of_an_unknown_passage(page, server):
    page.goto(server + "/?similar=ffffffffffffffff-0000")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "文章" in alert.inner_text()
    assert page.locator("#similar-view").is_hidden()


# ------------------------------------------------------------------ the widget


def _widget_search(page, host_site):
    page.goto(host_site[0] + "/")
    widget = widget_root(page)
    widget.get_by_role("combobox").fill(QUERY)
    widget.get_by_role("combobox").press("Enter")
    widget.locator("li.hit").first.wait_for()
    return widget


def test_widget_similar_cases_inline(page, server, host_site):
    widget = _widget_search(page, host_site)
    first = widget.locator("li.hit").first
    article = first.get_attribute("data-article")
    button = first.get_by_role("button", name="似た事例")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    similar = first.locator("li.similar-hit")
    similar.first.wait_for()
    assert (
        button.get_attribute("aria-expanded") == "true"
        and button.inner_text() == "似た事例を閉じる"
    )
    assert article not in similar.evaluate_all("ls => ls.map(l => l.dataset.article)")
    assert "似た事例" in first.locator(".similar-title").inner_text()
    assert widget.locator("li.hit:not(.similar-hit)").count() == 5
    shot(page, "widget_similar.png")
    button.click()
    assert first.locator(".similar").is_hidden()
    assert button.get_attribute("aria-expanded") == "false"


def test_widget_csv_link(page, server, host_site):
    widget = _widget_search(page, host_site)
    link = widget.get_by_role("link", name="CSV で保存")
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href.startswith(server + "/search?") and parse_qs(urlsplit(href).query)["format"] == [
        "csv"
    ]
    got = _fetch_bytes(page, href)  # from the host page's origin: CORS allows it
    assert got["status"] == 200 and got["head"] == BOM and got["text"].startswith("順位 rank")
    with page.expect_download() as info:
        link.click()
    assert list(Path(info.value.path()).read_bytes()[:3]) == BOM
    link.focus()
    shot(page, "widget_csv.png")
