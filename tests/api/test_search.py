"""`GET /search` on a real server: the CLI's JSON answer, filters, and a JSON error for every bad input."""

from __future__ import annotations

import json

import pytest

QUERY = "窓口キャッシュレス"


def _without_time(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "took_ms"}


@pytest.mark.parametrize(
    "params, flags",
    [
        ({"q": QUERY}, []),
        (
            {"q": "LINEで行政手続き", "k": 5, "mode": "lexical", "prefecture": "東京都"},
            ["-k", "5", "--mode", "lexical", "--prefecture", "東京都"],
        ),
        ({"q": "マイナカードとスマホ"}, []),  # expanded: マイナンバーカード, スマートフォン
        ({"q": "マイナカードとスマホ", "expand": "false"}, ["--no-expand"]),
    ],
)
def test_answer_is_the_cli_json(client, api_index, cli_search, params, flags):
    cli = cli_search(api_index, params["q"], *flags)
    http = client.get("/search", params=params)
    assert http.status_code == 200 and http.headers["content-type"].startswith("application/json")
    assert _without_time(http.json()) == _without_time(cli)
    assert isinstance(http.json()["took_ms"], float)


def test_answer_names_the_case_with_marked_spans(client):
    answer = client.get("/search", params={"q": QUERY}).json()
    assert answer["query"] == QUERY and answer["mode"] == "hybrid" and len(answer["passages"]) == 10
    top = answer["passages"][0]
    assert "宇佐市" in top["text"] and any(
        p["name"] == "宇佐市" for p in answer["municipalities"][:3]
    )
    for passage in answer["passages"]:
        for span in passage["highlights"]:
            assert 0 <= span["start"] < span["end"] <= len(passage["text"])
    marked = {top["text"][s["start"] : s["end"]] for s in top["highlights"]}
    assert any("キャッシュレス" in m for m in marked)
    for place in answer["municipalities"]:
        assert place["passage_ids"] and set(place["passage_ids"]) <= {
            p["id"] for p in answer["passages"]
        }


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_modes(client, mode):
    answer = client.get("/search", params={"q": QUERY, "mode": mode, "k": 3}).json()
    assert answer["mode"] == mode and len(answer["passages"]) == 3


def test_filters_restrict_the_passages(client):
    tokyo = client.get("/search", params={"q": QUERY, "prefecture": "東京都", "k": 20}).json()
    assert tokyo["passages"]
    assert all(
        any(m["prefecture"] == "東京都" for m in p["municipalities"]) for p in tokyo["passages"]
    )

    usa = next(
        p
        for p in client.get("/search", params={"q": QUERY}).json()["municipalities"]
        if p["name"] == "宇佐市"
    )
    chip = client.get("/search", params={"q": QUERY, "municipality": usa["code"]}).json()
    assert chip["passages"] and all(
        any(m["code"][:5] == usa["code"][:5] for m in p["municipalities"]) for p in chip["passages"]
    )

    dated = client.get(
        "/search", params={"q": QUERY, "date_from": "2021-01-01", "date_to": "2021-12-31"}
    ).json()
    assert dated["passages"] and all(
        "2021-01-01" <= p["published"] <= "2021-12-31" for p in dated["passages"]
    )

    source = dated["passages"][0]["source"]
    sourced = client.get("/search", params={"q": QUERY, "source": source}).json()
    assert sourced["passages"] and {p["source"] for p in sourced["passages"]} == {source}

    nothing = client.get("/search", params={"q": QUERY, "date_from": "2099-01-01"}).json()
    assert nothing["passages"] == [] and nothing["municipalities"] == []


BAD = [
    ({"q": ""}, "q"),
    ({"q": "   \u3000 "}, "q"),
    ({}, "q"),
    ({"q": QUERY, "k": "0"}, "k"),
    ({"q": QUERY, "k": "51"}, "k"),
    ({"q": QUERY, "k": "-3"}, "k"),
    ({"q": QUERY, "k": "abc"}, "k"),
    ({"q": QUERY, "k": "¹"}, "k"),  # isdigit() but not int(): once a 500 (found by the fuzz test)
    ({"q": QUERY, "k": "2.5"}, "k"),
    ({"q": QUERY, "mode": "fuzzy"}, "mode"),
    ({"q": "窓" * 5000}, "q"),
    ({"q": "窓口\x00キャッシュレス"}, "q"),
    ({"q": "窓口\x1b[31mキャッシュレス"}, "q"),
    ({"q": QUERY, "date_from": "2024-13-01"}, "date_from"),
    ({"q": QUERY, "date_to": "昨日"}, "date_to"),
    ({"q": QUERY, "date_from": "2023-01-01", "date_to": "2022-01-01"}, "date_from"),
    ({"q": QUERY, "prefecture": "ナントカ県"}, "prefecture"),
    ({"q": QUERY, "municipality": "../../etc"}, "municipality"),
]


@pytest.mark.parametrize("params, field", BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_is_a_json_422_and_the_server_keeps_serving(client, assert_error, params, field):
    error = assert_error(client.get("/search", params=params), 422, field)
    assert error["code"] in ("invalid_parameter", "missing_parameter")
    assert client.get("/search", params={"q": QUERY, "k": 1}).status_code == 200


def test_k_wording_matches_the_engine(client, assert_error):
    error = assert_error(client.get("/search", params={"q": QUERY, "k": "0"}), 422, "k")
    assert error["ja"] == "件数 k は 1〜50 の整数です: 0"


def test_odd_bytes_and_methods_are_4xx_json(client, assert_error):
    weird = client.get(f"/search?q=%FF%FE{QUERY}")
    assert weird.status_code in (200, 422)
    assert_error(client.post("/search", params={"q": QUERY}), 405)
    assert_error(client.get("/no/such/route"), 404)


def test_answers_are_compact_utf8_json(client):
    """orjson writes what Starlette's JSONResponse wrote: compact separators, Japanese as UTF-8, not \\u escapes."""
    answer = client.get("/search", params={"q": QUERY})
    first = answer.json()["passages"][0]
    code = answer.json()["municipalities"][0]["code"]
    for response in (
        answer,
        client.get(f"/passages/{first['id']}/similar"),
        client.get(f"/municipalities/{code}"),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        expected = json.dumps(response.json(), ensure_ascii=False, separators=(",", ":"))
        assert response.content == expected.encode("utf-8") and "宇佐" in response.text
