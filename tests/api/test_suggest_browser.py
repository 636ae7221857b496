"""The search box as a combobox in Chromium: IME composition (CDP), no request mid-composition, keyboard, ARIA,
and 「もしかして」 as a link."""

from __future__ import annotations

import time

from browserkit import shot, widget_root


def _suggest_requests(page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/suggest?" in r.url else None)
    return asked


def test_combobox_waits_for_the_ime_then_keyboard_selection_searches(page, server):
    asked = _suggest_requests(page)
    page.goto(server + "/")
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-controls") == "q-suggestions"
    box.focus()
    cdp = page.context.new_cdp_session(page)
    for typed in ("ま", "まど", "まどぐ", "まどぐち"):  # the IME composes: one update per key
        cdp.send(
            "Input.imeSetComposition",
            {"text": typed, "selectionStart": len(typed), "selectionEnd": len(typed)},
        )
        time.sleep(0.2)  # longer than the debounce: a request would have gone out by now
    assert page.evaluate("document.querySelector('#q').value") == "まどぐち"
    assert asked == [] and box.get_attribute("aria-expanded") == "false"
    cdp.send("Input.insertText", {"text": "まどぐち"})  # the composition is committed
    page.locator("#q-suggestions [role=option]").first.wait_for()
    assert len(asked) == 1 and "q=%E3%81%BE%E3%81%A9%E3%81%90%E3%81%A1" in asked[0]
    assert box.get_attribute("aria-expanded") == "true"
    options = page.locator("#q-suggestions [role=option]")
    texts = options.all_inner_texts()
    assert any(t.startswith("窓口") for t in texts), texts
    assert page.locator("#q-suggestions").get_attribute("role") == "listbox"
    shot(page, "suggest-open.png")

    page.keyboard.press("ArrowDown")
    first = options.first
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    page.keyboard.press("ArrowUp")  # wraps to the last
    assert options.last.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")  # back to the first
    chosen = first.locator(".text").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("location.search.includes('q=')")
    assert page.evaluate("document.querySelector('#q').value") == chosen
    page.locator("#passages li.passage").first.wait_for()
    assert box.get_attribute("aria-expanded") == "false"
    assert page.locator("#q-suggestions").is_hidden()


def test_escape_closes_and_did_you_mean_is_a_link(page, server):
    page.goto(server + "/")
    page.locator("#q").focus()
    page.keyboard.type("うさ")
    page.locator("#q-suggestions [role=option]").first.wait_for()
    assert "宇佐市" in page.locator("#q-suggestions").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#q-suggestions").is_hidden()
    assert page.locator("#q").get_attribute("aria-expanded") == "false"

    page.goto(server + "/?q=まどぐちキャッシュレス")
    link = page.locator("#did-you-mean-link")
    link.wait_for()
    assert "もしかして" in page.locator("#did-you-mean").inner_text()
    assert link.inner_text() == "窓口キャッシュレス"
    shot(page, "did-you-mean.png")
    link.click()
    page.wait_for_function("decodeURIComponent(location.search).includes('q=窓口キャッシュレス')")
    page.wait_for_function("document.querySelector('#status').textContent.includes('検索結果')")
    assert page.locator("#did-you-mean").is_hidden()


def test_widget_combobox_on_another_origin_waits_for_the_ime(page, server, host_site):
    asked = _suggest_requests(page)
    page.goto(host_site[0] + "/")
    widget = widget_root(page)
    box = widget.get_by_role("combobox")
    box.focus()
    assert box.get_attribute("aria-expanded") == "false"
    cdp = page.context.new_cdp_session(page)
    for typed in ("う", "うさ"):
        cdp.send(
            "Input.imeSetComposition",
            {"text": typed, "selectionStart": len(typed), "selectionEnd": len(typed)},
        )
        time.sleep(0.2)
    assert asked == []
    cdp.send("Input.insertText", {"text": "うさ"})
    options = widget.get_by_role("option")
    options.first.wait_for()
    assert len(asked) == 1 and box.get_attribute("aria-expanded") == "true"
    assert options.first.inner_text().startswith("宇佐市")
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    page.keyboard.press("Enter")
    widget.locator("li.hit").first.wait_for()
    assert box.input_value() == "宇佐市"
    assert box.get_attribute("aria-expanded") == "false"


def test_widget_offers_did_you_mean_and_searches_it(page, server, host_site):
    page.goto(host_site[0] + "/")
    widget = widget_root(page)
    box = widget.get_by_role("combobox")
    box.fill("まどぐちキャッシュレス")
    box.press("Enter")  # no option chosen: the text as typed is searched
    offer = widget.locator("p.offer")
    offer.locator("button").wait_for()
    assert offer.inner_text() == "もしかして: 窓口キャッシュレス"
    offer.locator("button").click()
    page.wait_for_function(
        "document.getElementById('dx-search').shadowRoot.querySelector('p.offer').hidden"
    )
    assert box.input_value() == "窓口キャッシュレス"
    assert "宇佐市" in widget.locator("li.hit").first.inner_text()
