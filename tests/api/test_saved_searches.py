"""Saved searches on a real server over its own copy of the bundled index: percolation at write time, the Atom feed
read by feedparser, bad input, and the mail digest received by a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import shutil
import socket
import time

import feedparser
import httpx
import pytest

CASHLESS = {
    "title": "宇佐市、窓口でキャッシュレス決済を導入",
    "body": "大分県宇佐市は市役所の窓口で住民票の写しなどの手数料をキャッシュレス決済で支払えるようにした。"
    "クレジットカードや電子マネー、QRコード決済に対応し、窓口での現金の受け渡しをなくした。"
    "窓口キャッシュレス化の事例として他の自治体からの視察も多い。",
    "source": "テスト通信",
    "published": "2026-11-20",
}
CASHLESS_2 = {
    "title": "千歳市の窓口キャッシュレス事例",
    "body": "北海道千歳市は、市民課の窓口に セミセルフレジを置き、各種証明書の手数料をキャッシュレス決済で"
    "受け付ける事例をつくった。窓口の待ち時間が短くなり、職員の現金管理の負担も減った。",
    "source": "テスト通信",
    "published": "2026-11-25",
}
OTHER = {
    "title": "八女市、小中学校の教室に空調設備",
    "body": "福岡県八女市は市内すべての小中学校の普通教室にエアコンを設置した。夏の授業環境を改善する。",
    "source": "テスト通信",
    "published": "2026-11-22",
}


@pytest.fixture(scope="module")
def saved_server(tmp_path_factory, bundled_index, embedder, gazetteer, api_settings, start_server):
    from search.engine import Engine

    root = tmp_path_factory.mktemp("saved") / "index"
    shutil.copytree(bundled_index, root, symlinks=True)
    settings = api_settings.model_copy(update={"index_dir": root, "cors_origins": []})
    with start_server(settings, Engine(root, embedder, gazetteer)) as base:
        yield base


@pytest.fixture(scope="module")
def http(saved_server):
    with httpx.Client(base_url=saved_server, timeout=120) as client:
        yield client


def _feed(http, search_id):
    answer = http.get(f"/saved-searches/{search_id}/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_a_saved_search_announces_the_new_articles_that_answer_it(http, auth):
    made = http.post(
        "/saved-searches", json={"name": "窓口キャッシュレス", "q": "窓口キャッシュレスの事例"}
    )
    assert made.status_code == 201, made.text
    saved = made.json()
    assert len(saved["id"]) >= 20 and saved["feed_url"].endswith(
        f"/saved-searches/{saved['id']}/feed.atom"
    )
    assert saved["matches"] == 0 and _feed(http, saved["id"]).entries == []
    narrow = http.post(
        "/saved-searches",
        json={
            "name": "北海道だけ",
            "q": "窓口キャッシュレスの事例",
            "filters": {"prefecture": "北海道"},
        },
    ).json()
    for article in (CASHLESS, OTHER):
        assert http.post("/articles", json=article, headers=auth).status_code == 201
        time.sleep(1.1)  # arrivals one second apart: the feed's order is theirs
    feed = _feed(http, saved["id"])
    assert [e.title for e in feed.entries] == [CASHLESS["title"]]
    entry = feed.entries[0]
    assert "宇佐市" in entry.summary and entry.published.startswith("2026-11-20")
    assert {t.label for t in entry.tags} >= {"宇佐市"}
    assert _feed(http, narrow["id"]).entries == []  # 宇佐市 is in 大分県
    assert http.post("/articles", json=CASHLESS_2, headers=auth).status_code == 201
    feed = _feed(http, saved["id"])
    assert [e.title for e in feed.entries] == [
        CASHLESS_2["title"],
        CASHLESS["title"],
    ]  # newest first
    assert [e.title for e in _feed(http, narrow["id"]).entries] == [CASHLESS_2["title"]]
    assert http.get(f"/saved-searches/{saved['id']}").json()["matches"] == 2


def test_bad_input_and_unknown_ids(http, assert_error):
    bad = {"name": "x", "q": "窓口", "filters": {"prefecture": "東京"}}
    assert_error(http.post("/saved-searches", json=bad), 422, "prefecture")
    assert_error(
        http.post("/saved-searches", json={"name": "x", "q": "窓口", "filters": {"city": "三鷹"}}),
        422,
    )
    assert_error(
        http.post(
            "/saved-searches",
            json={"name": "x", "q": "窓口", "filters": {"date_from": "2026-02-30"}},
        ),
        422,
        "date_from",
    )
    assert_error(http.post("/saved-searches", json={"name": "x", "q": "   "}), 422, "q")
    for method, path in (
        ("GET", "/saved-searches/no-such-id"),
        ("DELETE", "/saved-searches/no-such-id"),
        ("GET", "/saved-searches/no-such-id/feed.atom"),
    ):
        assert_error(http.request(method, path), 404, "id")
    made = http.post("/saved-searches", json={"name": "消す", "q": "電子申請"}).json()
    assert http.delete(f"/saved-searches/{made['id']}").json() == {
        "id": made["id"],
        "status": "removed",
    }
    assert_error(http.get(f"/saved-searches/{made['id']}"), 404, "id")


# ---------------------------------------------------------------- the mail digest, on a real SMTP server


def test_the_digest_reaches_a_real_smtp_server(
    tmp_path, bundled_index, embedder, gazetteer, api_settings, start_server, auth
):
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from search.engine import Engine

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    with socket.socket() as probe:  # a free loopback port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(message_class=None), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        root = tmp_path / "index"
        shutil.copytree(bundled_index, root, symlinks=True)
        settings = api_settings.model_copy(
            update={
                "index_dir": root,
                "cors_origins": [],
                "smtp_url": f"smtp://127.0.0.1:{port}/?from=jsearch@example.lg.jp&to=dx@example.lg.jp",
            }
        )
        with start_server(settings, Engine(root, embedder, gazetteer)) as base:
            with httpx.Client(base_url=base, timeout=120) as client:
                made = client.post(
                    "/saved-searches",
                    json={"name": "窓口キャッシュレス", "q": "窓口キャッシュレスの事例"},
                )
                assert made.status_code == 201
                assert client.post("/articles", json=OTHER, headers=auth).status_code == 201
                assert client.post("/articles", json=CASHLESS, headers=auth).status_code == 201
                deadline = time.monotonic() + 20
                while not received and time.monotonic() < deadline:
                    time.sleep(0.1)
    finally:
        controller.stop()
    assert len(received) == 1  # the unrelated article sent nothing
    mail = message_from_bytes(received[0].as_bytes(), policy=policy.default)
    assert mail["To"] == "dx@example.lg.jp" and "新着事例 1 件" in mail["Subject"]
    body = mail.get_content()
    assert "窓口キャッシュレス" in body and CASHLESS["title"] in body and "宇佐市" in body
