"""`GET /municipalities/{code}` on a real server: a place's passages, about it first, newest first, paged."""

from __future__ import annotations

import pytest

USA = "442119"


def test_page_lists_the_passages_naming_the_place_with_the_name_marked(client):
    page = client.get(f"/municipalities/{USA}").json()
    assert (page["name"], page["prefecture"], page["level"], page["kind"]) == (
        "宇佐市",
        "大分県",
        "municipality",
        "city",
    )
    assert page["total"] >= 1 and page["passages"] and page["former_names"] == []
    for passage in page["passages"]:
        assert any(p["code"] == USA for p in passage["municipalities"])
        marked = {passage["text"][h["start"] : h["end"]] for h in passage["highlights"]}
        assert marked <= {"宇佐市", "宇佐"} and (marked or passage["role"] == "inherited")
    assert page["passages"][0]["role"] in ("subject", "inherited")


def test_about_it_first_then_mentions_each_newest_first(client):
    page = client.get(
        "/municipalities/130001", params={"limit": 100}
    ).json()  # 東京都: the subject of passages in three articles, named in passing in others
    assert page["level"] == "prefecture" and page["total"] >= 5
    groups = [p["role"] == "mention" for p in page["passages"]]
    assert any(groups) and not all(groups)
    assert len({p["article_id"] for p in page["passages"]}) >= 3
    assert groups == sorted(groups)
    for about in (False, True):
        dates = [p["published"] or "" for p, g in zip(page["passages"], groups) if g == about]
        dated = [d for d in dates if d]
        assert dated == sorted(dated, reverse=True)


def test_paging_walks_every_passage_once(client):
    whole = client.get("/municipalities/130001", params={"limit": 100}).json()
    expected = [p["id"] for p in whole["passages"]]
    seen = []
    for offset in range(0, len(expected), 4):
        page = client.get("/municipalities/130001", params={"limit": 4, "offset": offset}).json()
        assert page["offset"] == offset and page["limit"] == 4 and page["total"] == whole["total"]
        seen += [p["id"] for p in page["passages"]]
    assert seen == expected and len(set(seen)) == len(seen) == min(whole["total"], 100)
    past = client.get("/municipalities/130001", params={"offset": whole["total"]}).json()
    assert past["passages"] == [] and past["total"] == whole["total"]


def test_a_place_no_article_names_has_an_empty_page(client):
    page = client.get(
        "/municipalities/221384"
    ).json()  # 浜松市中央区 (2024): in the gazetteer, not in the corpus
    assert page["name"] == "浜松市中央区" and page["total"] == 0 and page["passages"] == []
    assert set(page["former_names"]) == {"浜松市中区", "浜松市東区", "浜松市西区", "浜松市南区"}


@pytest.mark.parametrize(
    "code, status",
    [
        ("999997", 404),  # well-formed (its check digit is right), but no such government
        ("442118", 422),  # wrong check digit
        ("44211", 422),
        ("4421190", 422),
        ("abcdef", 422),
        ("４４２１１９", 422),
    ],
)
def test_bad_codes_are_json_errors(client, assert_error, code, status):
    assert_error(client.get(f"/municipalities/{code}"), status, "code")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "x"}, "limit"),
    ],
)
def test_bad_paging_is_a_json_error(client, assert_error, params, field):
    assert_error(client.get(f"/municipalities/{USA}", params=params), 422, field)
