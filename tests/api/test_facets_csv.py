"""Facets in /search answers and `format=csv` for Excel, on a real server."""

from __future__ import annotations

import csv
import io

QUERY = "窓口キャッシュレス"


def test_facets_count_articles_among_the_relevant_filtered_candidates(client):
    answer = client.get("/search", params={"q": QUERY}).json()
    facets = answer["facets"]
    assert set(facets) >= {"prefecture", "source", "year", "depth"} and 1 <= facets["depth"] < 100
    total_articles = client.get("/articles").json()["total"]
    for name in ("prefecture", "source", "year"):
        counts = [v["count"] for v in facets[name]]
        assert counts == sorted(counts, reverse=True) and all(
            0 < c <= total_articles for c in counts
        )
    assert "大分県" in {v["name"] for v in facets["prefecture"]}
    assert all(len(v["name"]) == 4 and v["name"].isdigit() for v in facets["year"])


def test_facets_follow_the_filters(client):
    year = client.get("/search", params={"q": QUERY}).json()["facets"]["year"][0]["name"]
    answer = client.get(
        "/search", params={"q": QUERY, "date_from": f"{year}-01-01", "date_to": f"{year}-12-31"}
    ).json()
    assert [v["name"] for v in answer["facets"]["year"]] == [year]
    assert all(p["published"].startswith(year) for p in answer["passages"])
    source = answer["facets"]["source"][0]["name"]
    only = client.get("/search", params={"q": QUERY, "source": source}).json()["facets"]["source"]
    assert [v["name"] for v in only] == [source]


def test_csv_opens_in_excel_with_one_row_per_passage(client):
    json_answer = client.get("/search", params={"q": QUERY, "k": 5}).json()
    response = client.get("/search", params={"q": QUERY, "k": 5, "format": "csv"})
    assert (
        response.status_code == 200
        and response.headers["content-type"] == "text/csv; charset=utf-8"
    )
    assert response.headers["content-disposition"].startswith('attachment; filename="jsearch-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("順位") and len(rows) == 1 + len(json_answer["passages"])
    for row, passage in zip(rows[1:], json_answer["passages"]):
        assert row[2] == passage["title"] and row[7].lstrip("'") == passage["text"]
        for place in passage["municipalities"]:
            assert f"{place['name']} ({place['code']})" in row[6]


def test_csv_cells_never_start_a_formula():
    from api.export import cell

    assert cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert (
        cell("+81") == "'+81"
        and cell("@SUM") == "'@SUM"
        and cell("宇佐市") == "宇佐市"
        and cell(None) == ""
    )


def test_bad_format_is_a_json_error(client, assert_error):
    assert_error(client.get("/search", params={"q": QUERY, "format": "xml"}), 422, "format")
