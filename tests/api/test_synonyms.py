"""`/synonyms` and `jsearch synonyms` on a real server over its own index copy: a PUT changes the next answer with
no restart and no reindex, is kept by later writes, and bad lists get a 422 naming the entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import httpx
import pytest

from api.settings import Settings

KEY = "synonym-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUERY = "電申の導入事例"  # 電申: staff shorthand for 電子申請, which the articles write


@pytest.fixture(scope="module")
def served(tmp_path_factory, bundled_index, embedder, gazetteer, start_server):
    from search.engine import Engine

    index = tmp_path_factory.mktemp("synonyms") / "index"
    shutil.copytree(bundled_index, index, symlinks=True)
    settings = Settings(index_dir=index, api_key=KEY, lock_timeout=30)
    with start_server(settings, Engine(index, embedder, gazetteer)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, index


def _jsearch(index, *args: str) -> subprocess.CompletedProcess:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            *args,
            "--index-dir",
            str(index),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )


def test_a_put_changes_the_next_answer_without_restart_or_reindex(served):
    client, index = served
    assert client.get("/synonyms").json()["groups"] == []
    before = client.get("/search", params={"q": QUERY, "mode": "lexical", "k": 3}).json()
    assert before["expanded"] == []

    put = client.put("/synonyms", json={"groups": [["電子申請", "電申"]]}, headers=AUTH)
    assert put.status_code == 200, put.text
    assert put.json()["groups"] == [["電子申請", "電申"]]
    assert put.json()["generation"] != before["generation"]

    after = client.get("/search", params={"q": QUERY, "mode": "lexical", "k": 3}).json()
    assert after["generation"] == put.json()["generation"]
    assert after["expanded"][0] == "電子申請" and "電子申請" in after["passages"][0]["text"]
    assert after["passages"][0]["scores"]["lexical"] > before["passages"][0]["scores"]["lexical"]
    alone = client.get("/search", params={"q": QUERY, "mode": "lexical", "k": 3, "expand": False})
    assert alone.json()["expanded"] == [] and alone.json()["passages"] == before["passages"]

    listed = json.loads(_jsearch(index, "synonyms", "list", "--json").stdout)
    assert listed["groups"] == [["電子申請", "電申"]]


def test_later_writes_keep_the_groups_and_the_cli_edits_them(served):
    client, index = served
    client.put("/synonyms", json={"groups": [["電子申請", "電申"]]}, headers=AUTH)
    article = {
        "title": "電申の試行",
        "body": "本市は電子申請の窓口を試行しました。" * 3,
        "source": "テスト",
    }
    assert client.post("/articles", json=article, headers=AUTH).status_code in (200, 201)
    assert client.get("/synonyms").json()["groups"] == [["電子申請", "電申"]]

    done = _jsearch(index, "synonyms", "add", "マイナカード", "マイナンバーカード", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["groups"][-1] == ["マイナカード", "マイナンバーカード"]
    done = _jsearch(index, "synonyms", "remove", "電申", "--json")
    assert json.loads(done.stdout)["groups"] == [["マイナカード", "マイナンバーカード"]]
    client.post(
        "/articles", json=article, headers=AUTH
    )  # the server refreshes after a write of its own
    assert client.get("/synonyms").json()["groups"] == [["マイナカード", "マイナンバーカード"]]
    bad = _jsearch(index, "synonyms", "add", "電申")
    assert bad.returncode == 2 and "エラー" in bad.stderr and "Error" in bad.stderr


@pytest.mark.parametrize(
    ("groups", "named"),
    [
        ([["a", "b"]] * 100_000, "10000"),
        ([["電子申請", ""]], "groups[0][1]"),
        ([["電子申請", "電申"], ["電申", "e申請"]], "groups[1][0]"),
        ([["電子\u0007申請", "電申"]], "groups[0][0]"),
    ],
)
def test_bad_lists_get_a_422_naming_the_limit_or_entry(served, assert_error, groups, named):
    client, _ = served
    before = client.get("/synonyms").json()
    error = assert_error(client.put("/synonyms", json={"groups": groups}, headers=AUTH), 422)
    assert named in error["ja"] and named in error["en"]
    assert client.get("/synonyms").json() == before  # nothing lost, nothing committed


def test_a_put_needs_the_write_key(served, assert_error):
    client, _ = served
    assert_error(client.put("/synonyms", json={"groups": [["電子申請", "電申"]]}), 401)


def test_a_word_an_own_group_stands_for_gets_no_did_you_mean(served):
    client, _ = served
    client.put("/synonyms", json={"groups": [["電子申請", "電申"]]}, headers=AUTH)
    answer = client.get("/search", params={"q": QUERY}).json()
    assert answer["expanded"][0] == "電子申請" and answer["did_you_mean"] is None
    alone = client.get("/search", params={"q": QUERY, "expand": False}).json()
    assert (
        alone["expanded"] == []
    )  # the words alone: 電申 is not in the index, a correction may be offered
