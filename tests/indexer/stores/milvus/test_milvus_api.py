"""The Milvus store through the command line and real HTTP servers: the same answers as the FAISS store, uploads
searchable at once, two server processes sharing one Milvus, and clear refusals of bad or unusable stores."""

from __future__ import annotations

import csv
import io
import json
import sys
import time

import httpx
import pytest
from milvuskit import (
    build_store,
    cli_env,
    free_port,
    jsearch,
    jsearch_json,
    same,
    seeded_index_dir,
    start,
    stop,
    wait_health,
    wait_port,
    without,
)
from servekit import serve

from api.settings import Settings
from indexer.stores.spec import parse

KEY = "milvus-write-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW = {
    "title": "しらさぎ市の公用車予約システム",
    "source": "テスト通信",
    "published": "2024-07-01",
    "url": "https://example.invalid/shirasagi",
    "body": "しらさぎ市は公用車の予約を紙の台帳からクラウドの予約システムに切り替えた。宇佐市の事例を参考に、"
    "鍵の受け渡しもスマートロックにした。",
}
NEW_QUERY = "しらさぎ市の公用車予約システム"
SEARCHES = [
    {"q": "窓口キャッシュレスの事例", "k": 5},
    {"q": "オンライン会議", "prefecture": "大分県"},
    {"q": "窓口の混雑を減らす", "municipality": "442119", "k": 20},
    {"q": "テレワーク", "source": "地方自治", "mode": "dense"},
    {"q": "自治体DX", "date_from": "2021-01-01", "date_to": "2022-12-31", "mode": "lexical"},
]


# ---------------------------------------------------------------- a store, an engine and two servers in this process


@pytest.fixture(scope="module")
def api_store(tmp_path_factory, bundled_index, embedder, bundled_articles):
    """The bundled corpus in a Milvus Lite store this process holds: (the --store text, local index dir)."""
    root = tmp_path_factory.mktemp("milvus-api")
    text = f"milvus:{root}/api.db"
    ix = seeded_index_dir(root / "ix", bundled_index)
    build_store(parse(text), ix, embedder, bundled_articles)
    return text, ix


@pytest.fixture(scope="module")
def milvus_base(api_store, embedder, gazetteer):
    from search.engine import Engine

    text, ix = api_store
    engine = Engine(ix, embedder, gazetteer, store=parse(text))
    with serve(Settings(index_dir=ix, store=text, api_key=KEY, lock_timeout=30), engine) as base:
        yield base


@pytest.fixture(scope="module")
def faiss_base(bundled_index, engine):
    with serve(Settings(index_dir=bundled_index), engine) as base:
        yield base


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=60) as client:
        yield client


def test_search_answers_as_the_faiss_server(http, milvus_base, faiss_base):
    for params in SEARCHES:
        milvus = http.get(milvus_base + "/search", params=params)
        faiss = http.get(faiss_base + "/search", params=params)
        assert milvus.status_code == faiss.status_code == 200, milvus.text
        assert milvus.json()["generation"].startswith("milvus-")
        assert faiss.json()["passages"], params
        same(without(faiss.json()), without(milvus.json()))


def test_pages_answer_as_the_faiss_server(http, milvus_base, faiss_base):
    # a passage the Milvus server has just returned from a search (kept without its vector: similar must fetch it)
    top = http.get(
        milvus_base + "/search", params={"q": "窓口キャッシュレスの事例", "k": 1}
    ).json()["passages"][0]
    for path, params in [
        ("/municipalities/442119", {}),
        ("/municipalities/442119", {"limit": 3, "offset": 2}),
        (f"/passages/{top['id']}/similar", {"k": 5}),
        ("/articles", {"limit": 200}),
        ("/articles", {"offset": 1, "limit": 2}),
        (f"/articles/{top['article_id']}", {}),
    ]:
        milvus, faiss = (
            http.get(milvus_base + path, params=params),
            http.get(faiss_base + path, params=params),
        )
        assert milvus.status_code == faiss.status_code == 200, (path, milvus.text)
        same(without(faiss.json()), without(milvus.json()))
    health, reference = (
        http.get(milvus_base + "/health").json(),
        http.get(faiss_base + "/health").json(),
    )
    assert health["status"] == "ok" and health["generation"].startswith("milvus-")
    assert (health["articles"], health["chunks"], health["model"]) == (
        reference["articles"],
        reference["chunks"],
        reference["model"],
    )
    params = {"q": "窓口キャッシュレスの事例", "k": 5, "format": "csv"}
    exported = http.get(milvus_base + "/search", params=params)
    reference = http.get(faiss_base + "/search", params=params)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows, expected = (list(csv_rows(r.text)) for r in (exported, reference))
    assert exported.text.startswith("\ufeff") and len(rows) == len(expected) == 6
    same(
        [r[:1] + [float(r[1])] + r[2:] if i else r for i, r in enumerate(expected)],
        [r[:1] + [float(r[1])] + r[2:] if i else r for i, r in enumerate(rows)],
    )
    assert http.get(milvus_base + "/municipalities/999999").status_code in (404, 422)
    assert http.get(milvus_base + "/passages/nope/similar").status_code == 404
    assert http.get(milvus_base + "/articles/ffffffffffffffff").status_code == 404


def test_upload_is_searchable_at_once_then_deleted(http, milvus_base):
    before = http.get(milvus_base + "/health").json()
    added = http.post(milvus_base + "/articles", json=NEW, headers=AUTH)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["status"] == "added" and body["generation"].startswith("milvus-")
    assert body["generation"] != before["generation"]
    answer = http.get(milvus_base + "/search", params={"q": NEW_QUERY, "k": 3}).json()
    assert answer["generation"] == body["generation"]
    assert answer["passages"][0]["article_id"] == body["id"]
    assert (
        answer["passages"][0]["title"] == NEW["title"]
        and answer["passages"][0]["published"] == "2024-07-01"
    )
    stored = http.get(milvus_base + f"/articles/{body['id']}").json()
    assert stored["source"] == NEW["source"] and stored["url"] == NEW["url"] and stored["passages"]
    assert NEW["body"][:20] in stored["text"]
    usa = http.get(milvus_base + "/municipalities/442119", params={"limit": 100}).json()
    assert body["id"] in {p["article_id"] for p in usa["passages"]}
    listed = http.get(milvus_base + "/articles", params={"limit": 1}).json()
    assert listed["articles"][0]["id"] == body["id"] and listed["total"] == before["articles"] + 1
    health = http.get(milvus_base + "/health").json()
    assert (health["articles"], health["generation"]) == (
        before["articles"] + 1,
        body["generation"],
    )
    again = http.post(milvus_base + "/articles", json=NEW, headers=AUTH).json()
    assert again["id"] == body["id"] and again["status"] == "unchanged"
    assert http.post(milvus_base + "/articles", json=NEW).status_code == 401

    gone = http.delete(milvus_base + f"/articles/{body['id']}", headers=AUTH)
    assert gone.status_code == 200 and gone.json()["status"] == "removed", gone.text
    assert http.get(milvus_base + f"/articles/{body['id']}").status_code == 404
    answer = http.get(milvus_base + "/search", params={"q": NEW_QUERY, "k": 20}).json()
    assert body["id"] not in {p["article_id"] for p in answer["passages"]}
    usa = http.get(milvus_base + "/municipalities/442119", params={"limit": 100}).json()
    assert body["id"] not in {p["article_id"] for p in usa["passages"]}
    assert http.get(milvus_base + "/health").json()["articles"] == before["articles"]
    assert http.delete(milvus_base + f"/articles/{body['id']}", headers=AUTH).status_code == 404


def test_a_second_process_on_a_held_lite_path_is_refused(api_store, milvus_base, tmp_path):
    """This process holds the Lite directory (its server is up): another process gets the clear refusal."""
    text, _ = api_store
    for args in (
        ["search", "窓口", "--store", text, "--index-dir", str(tmp_path / "ix")],
        ["serve", "--store", text, "--index-dir", str(tmp_path / "ix"), "--port", str(free_port())],
    ):
        began = time.monotonic()
        done = jsearch(*args, timeout=120)
        assert done.returncode != 0, done.stdout
        assert time.monotonic() - began < 60
        assert "別のプロセス" in done.stderr and "another process" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr


# ---------------------------------------------------------------- the command line


@pytest.mark.slow
def test_cli_index_and_search_on_milvus(tmp_path, bundled_index):
    store = f"milvus:{tmp_path}/c.db"
    ix = seeded_index_dir(tmp_path / "ix", bundled_index)
    done = jsearch("index", "--store", store, "--index-dir", str(ix), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert (
        summary["store"] == store
        and summary["articles"] == 5
        and summary["generation"] == "milvus-000001"
    )
    assert summary["chunks"] > 20 and len(summary["added"]) == 5

    checked = jsearch_json("check", "--store", store)
    assert checked["ok"] and checked["store"] == store and checked["generation"] == "milvus-000001"
    for flags in (
        ["窓口キャッシュレスの事例", "-k", "5"],
        ["オンライン会議", "--prefecture", "大分県"],
    ):
        milvus = jsearch_json("search", *flags, "--store", store, "--index-dir", str(ix))
        faiss = jsearch_json("search", *flags, "--index-dir", str(bundled_index))
        assert faiss["passages"] and milvus["generation"] == "milvus-000001"
        same(without(faiss), without(milvus))

    again = jsearch_json(
        "index", "--store", store, "--index-dir", str(ix)
    )  # the sources the store records
    assert (
        again["unchanged"] == 5
        and again["embedded_chunks"] == 0
        and again["generation"] == "milvus-000002"
    )


@pytest.mark.parametrize(
    "command", [["search", "窓口"], ["index"], ["check"], ["serve", "--port", "1"]]
)
def test_cli_refuses_an_unknown_store(command, tmp_path):
    done = jsearch(*command, "--store", "redis:x", "--index-dir", str(tmp_path / "ix"), timeout=120)
    assert done.returncode == 2, done.stderr
    assert (
        "エラー: 索引の保存先" in done.stderr
        and "Error: the index store" in done.stderr
        and "'redis:x'" in done.stderr
    )
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize("command", [["search", "窓口"], ["check"], ["serve", "--port", "1"]])
def test_cli_refuses_an_unreachable_server(command, tmp_path):
    began = time.monotonic()
    done = jsearch(
        *command,
        "--store",
        "milvus:http://127.0.0.1:1",
        "--index-dir",
        str(tmp_path / "ix"),
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - began < 60
    assert "エラー: Milvus（http://127.0.0.1:1）に接続できません" in done.stderr, done.stderr
    assert "Error: cannot use Milvus at http://127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout.count("{") == 0


def test_cli_bad_store_from_the_environment(tmp_path):
    done = jsearch(
        "check", "--index-dir", str(tmp_path), env=cli_env(JSEARCH_STORE="milvus:/tmp/no-suffix")
    )
    assert done.returncode == 2 and ".db" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- two server processes on one Milvus


@pytest.mark.slow
def test_two_servers_share_one_milvus(tmp_path, bundled_index):
    port, ports = free_port(), (free_port(), free_port())
    store = f"milvus:http://127.0.0.1:{port}"
    milvus, servers = None, []
    try:
        milvus = start(
            [
                sys.executable,
                "-m",
                "milvus_lite",
                "server",
                "--data-dir",
                str(tmp_path / "shared"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            tmp_path / "milvus.log",
        )
        wait_port(port, milvus, tmp_path / "milvus.log")
        built = jsearch_json(
            "index",
            "--store",
            store,
            "--index-dir",
            str(seeded_index_dir(tmp_path / "ix0", bundled_index)),
        )
        assert built["store"] == store and built["articles"] == 5
        env = cli_env(JSEARCH_API_KEY=KEY, JSEARCH_REFRESH_SECONDS="0.2", JSEARCH_THREADS="1")
        for i, p in enumerate(ports, 1):
            servers.append(
                start(
                    [
                        *JSEARCH_SERVE,
                        "--store",
                        store,
                        "--port",
                        str(p),
                        "--index-dir",
                        str(tmp_path / f"ix{i}"),
                    ],
                    tmp_path / f"serve{i}.log",
                    env,
                )
            )
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        healths = [
            wait_health(b, s, tmp_path / f"serve{i}.log")
            for i, (b, s) in enumerate(zip(bases, servers), 1)
        ]
        assert healths[0]["generation"] == healths[1]["generation"] == built["generation"]

        with httpx.Client(timeout=60) as http:
            for params in SEARCHES[:3]:
                one, two = (http.get(b + "/search", params=params).json() for b in bases)
                assert one["passages"], params
                same(without(one, ("took_ms",)), without(two, ("took_ms",)), tol=1e-6)

            added = http.post(bases[0] + "/articles", json=NEW, headers=AUTH)
            assert added.status_code == 201, added.text
            new_id, generation = added.json()["id"], added.json()["generation"]
            answer = poll(
                http, bases[1], lambda a: a["passages"] and a["passages"][0]["article_id"] == new_id
            )
            assert answer["generation"] == generation
            assert http.get(bases[1] + f"/articles/{new_id}").json()["title"] == NEW["title"]

            gone = http.delete(
                bases[1] + f"/articles/{new_id}", headers=AUTH
            )  # and back through the other one
            assert gone.status_code == 200, gone.text
            poll(http, bases[0], lambda a: new_id not in {p["article_id"] for p in a["passages"]})
            assert http.get(bases[0] + f"/articles/{new_id}").status_code == 404
            one, two = (http.get(b + "/health").json() for b in bases)
            assert one["generation"] == two["generation"] == gone.json()["generation"]
            assert one["articles"] == two["articles"] == 5
    finally:
        for proc in [*servers, milvus]:
            stop(proc)


def csv_rows(text: str):
    return csv.reader(io.StringIO(text.lstrip("\ufeff")))


JSEARCH_SERVE = [sys.executable, "-c", "from api.cli import main; main()", "serve"]


def poll(http: httpx.Client, base: str, done, seconds: float = 15) -> dict:
    """GET /search for the new article until `done(answer)` holds (the server refreshes every 0.2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = http.get(base + "/search", params={"q": NEW_QUERY, "k": 10}).json()
        if done(answer) or time.monotonic() > deadline:
            assert done(answer), (
                f"{base} did not see the other server's write within {seconds} s: {answer}"
            )
            return answer
        time.sleep(0.2)
