"""`GET /suggest` on a real server, past searches from the search log, and `did_you_mean` in `/search` and the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx


def test_suggest_answers_readings_with_the_one_shape(client):
    answer = client.get("/suggest", params={"q": "うさ", "k": 3}).json()
    assert set(answer) >= {"query", "took_ms", "generation", "suggestions"}
    first = answer["suggestions"][0]
    assert (first["text"], first["kind"], first["code"]) == ("宇佐市", "municipality", "442119")
    assert len(answer["suggestions"]) <= 3


def test_empty_long_and_bad_prefixes_never_fail(client, assert_error):
    assert client.get("/suggest").json()["suggestions"] == []
    assert client.get("/suggest", params={"q": ""}).json()["suggestions"] == []
    began = time.perf_counter()
    assert client.get("/suggest", params={"q": "あ" * 1000}).json()["suggestions"] == []
    assert time.perf_counter() - began < 1.0
    assert_error(client.get("/suggest", params={"q": "あ" * 1001}), 422, "q")
    assert_error(client.get("/suggest", params={"q": "窓\x07"}), 422, "q")
    assert_error(client.get("/suggest", params={"q": "窓", "k": 0}), 422, "k")
    assert_error(client.get("/suggest", params={"q": "窓", "k": 21}), 422, "k")


def test_did_you_mean_is_the_same_over_http_and_the_cli(client, api_index, cli_search):
    http = client.get("/search", params={"q": "まどぐちキャッシュレス", "k": 3}).json()
    assert http["did_you_mean"] == {
        "text": "窓口キャッシュレス",
        "reason": "reading",
        "word": "まどぐち",
        "term": "窓口",
    }
    assert (
        cli_search(api_index, "まどぐちキャッシュレス", "-k", "3")["did_you_mean"]
        == http["did_you_mean"]
    )
    assert client.get("/search", params={"q": "窓口キャッシュレス"}).json()["did_you_mean"] is None


def test_queries_searched_twice_are_offered_masked_ones_never(
    tmp_path, api_settings, api_engine, start_server, auth
):
    settings = api_settings.model_copy(update={"log_path": tmp_path / "searchlog.sqlite3"})
    with (
        start_server(settings, api_engine) as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        for q in (
            ["窓口キャッシュレスの取り組み"] * 2 + ["窓口 090-1234-5678"] * 2 + ["窓口の一度だけ"]
        ):
            assert http.get("/search", params={"q": q, "k": 1}).status_code == 200
        today = datetime.now(UTC).date().isoformat()
        deadline = time.monotonic() + 20
        while (
            http.get("/analytics", params={"from": today, "to": today}, headers=auth).json()[
                "searches"
            ]
            < 5
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        found: list = []
        while not any(s["kind"] == "query" for s in found):
            assert time.monotonic() < deadline, found
            found = http.get("/suggest", params={"q": "まどぐち", "k": 20}).json()["suggestions"]
            time.sleep(0.1)
        queries = [s["text"] for s in found if s["kind"] == "query"]
        assert queries == ["窓口キャッシュレスの取り組み"]


def test_a_posted_title_is_suggested_without_a_restart_and_gone_after_delete(client, auth):
    article = {
        "title": "沼田市の電子図書館サービス",
        "source": "テスト通信",
        "published": "2024-06-01",
        "url": "https://example.invalid/numata-library",
        "body": "沼田市は電子図書館サービスを始め、図書館に来なくても本を借りられるようにした。",
    }

    def offered() -> list[tuple[str, str]]:
        found = client.get("/suggest", params={"q": "ぬまたし", "k": 10}).json()["suggestions"]
        return [(s["text"], s["kind"]) for s in found]

    def wait_for(done) -> None:
        deadline = time.monotonic() + 20
        while not done():
            assert time.monotonic() < deadline, offered()
            time.sleep(0.05)

    assert ("沼田市の電子図書館サービス", "title") not in offered()
    added = client.post("/articles", json=article, headers=auth)
    assert added.status_code == 201, added.text
    try:
        wait_for(lambda: ("沼田市の電子図書館サービス", "title") in offered())
        assert ("沼田市", "municipality") in offered()
    finally:
        removed = client.delete(f"/articles/{added.json()['id']}", headers=auth)
        assert removed.status_code == 200
    wait_for(lambda: ("沼田市の電子図書館サービス", "title") not in offered())


def test_the_cli_listing_shows_did_you_mean(api_index):
    from typer.testing import CliRunner

    from api.cli import app

    out = CliRunner().invoke(
        app, ["search", "まどぐちキャッシュレス", "-k", "2", "--index-dir", str(api_index)]
    )
    assert out.exit_code == 0, out.output
    assert "もしかして / did you mean: 窓口キャッシュレス" in out.stdout.splitlines()[1]
