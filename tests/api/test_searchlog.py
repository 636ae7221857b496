"""The search log: 1,000 logged searches against analytics counted by hand, retention, and a real server whose log
is unwritable or on a full disk still answering every search."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.log import analytics
from api.log.store import Entry, SearchLog, entry_of

QUERIES = [
    "窓口キャッシュレスの事例",
    "電子申請",
    "RPA 導入",
    "ガバメントクラウド",
    "存在しない話題",
]
PLACES = [
    ["442119", "宇佐市", "大分県"],
    ["132047", "三鷹市", "東京都"],
    ["152048", "三条市", "新潟県"],
]


def _entries(count: int, seed: int = 27) -> list[Entry]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    out = []
    for i in range(count):
        q = rng.choice(QUERIES)
        zero = q == "存在しない話題" and rng.random() < 0.5
        dense = rng.uniform(0.75, 0.92)
        out.append(
            Entry(
                at=(start + timedelta(hours=i % 240)).isoformat(timespec="milliseconds"),
                query=q,
                filters={"prefecture": "東京都"} if rng.random() < 0.2 else {},
                mode="hybrid",
                results=0 if zero else 10,
                best_score=None if zero else 0.9,
                best_dense=None if zero else dense,
                took_ms=rng.uniform(20, 80),
                places=[] if zero else [rng.choice(PLACES)],
            )
        )
    return out


def test_thousand_searches_counted_by_hand(tmp_path):
    entries = _entries(1000)
    log = SearchLog(tmp_path / "log.sqlite3")
    for e in entries:
        log.record(e)
    assert log.flush(30)
    log.close()
    assert log.written == 1000 and log.dropped == 0
    got = analytics.report(tmp_path / "log.sqlite3", "2026-11-01", "2026-11-11")
    assert got["searches"] == 1000 and got["distinct_queries"] == len(QUERIES)
    # by hand, on a sample: one query, one day, the zero hits, the weak answers, one municipality
    sample = "電子申請"
    assert {r["name"]: r["count"] for r in got["top_queries"]}[sample] == sum(
        e.query == sample for e in entries
    )
    day = "2026-11-04"
    assert {d["day"]: d["count"] for d in got["per_day"]}[day] == sum(
        e.at.startswith(day) for e in entries
    )
    assert got["zero_hit_queries"] == [
        {"name": "存在しない話題", "count": sum(e.results == 0 for e in entries)}
    ]
    weak = sum(
        e.query == sample and e.results and e.best_dense < analytics.WEAK_DENSE for e in entries
    )
    assert {r["name"]: r["count"] for r in got["weak_answer_queries"]}[sample] == weak
    assert {r["name"]: r["count"] for r in got["municipalities"]}["東京都 三鷹市"] == sum(
        bool(e.places) and e.places[0][1] == "三鷹市" for e in entries
    )
    # a narrower range counts only its days
    two = analytics.report(tmp_path / "log.sqlite3", "2026-11-02", "2026-11-03")
    assert two["searches"] == sum(e.at[:10] in ("2026-11-02", "2026-11-03") for e in entries)
    rows = analytics.to_csv(tmp_path / "log.sqlite3", "2026-11-01", "2026-11-11").splitlines()
    assert rows[0].lstrip("\ufeff").split(",")[:3] == ["at", "query", "filters"]
    assert len(rows) == 1001


def test_queries_are_masked_and_old_rows_are_deleted(tmp_path):
    path = tmp_path / "log.sqlite3"
    log = SearchLog(path, days=180)
    now = datetime.now(UTC)
    base = _entries(1)[0]
    log.record(replace(base, at=(now - timedelta(days=200)).isoformat(), query="古い検索"))
    log.record(replace(base, at=now.isoformat(), query="連絡先 taro@city.example.jp 03-1234-5678"))
    assert log.flush(10)
    log.record(
        replace(base, at=now.isoformat(), query="次の検索")
    )  # the purge ran with the first batch
    log.close()
    with sqlite3.connect(path) as conn:
        queries = [q for (q,) in conn.execute("SELECT query FROM searches ORDER BY id")]
    assert "古い検索" not in queries and "次の検索" in queries
    assert "連絡先 ＊＊＊ ＊＊＊" in queries
    assert not any("@" in q or "1234" in q for q in queries)


def test_entries_of_real_answers(engine):
    hybrid = entry_of(engine.search("窓口キャッシュレス", 5), {"prefecture": None, "source": "x"})
    assert (
        hybrid.results == 5 and hybrid.best_dense is not None and hybrid.filters == {"source": "x"}
    )
    assert hybrid.places and len(hybrid.places[0]) == 3
    lexical = entry_of(engine.search("窓口キャッシュレス", 5, "lexical"), {})
    assert lexical.best_dense is None  # no dense score: never counted as a weak answer


def test_an_unwritable_log_never_fails_a_search(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    log = SearchLog(blocker / "log.sqlite3")
    log.record(_entries(1)[0])
    assert log.flush(10)
    log.close()
    assert log.dropped == 1 and log.written == 0


# ---------------------------------------------------------------- on a real server


@pytest.fixture
def logged_server(tmp_path, api_settings, api_engine, start_server):
    settings = api_settings.model_copy(update={"log_path": tmp_path / "searchlog.sqlite3"})
    with start_server(settings, api_engine) as base:
        yield base, tmp_path / "searchlog.sqlite3"


def test_searches_reach_analytics_masked(logged_server, auth, assert_error):
    base, path = logged_server
    with httpx.Client(base_url=base, timeout=60) as http:
        for q in ("窓口キャッシュレス", "窓口キャッシュレス", "問い合わせ 090-1234-5678 電子申請"):
            assert http.get("/search", params={"q": q, "prefecture": "大分県"}).status_code == 200
        today = datetime.now(UTC).date().isoformat()
        got = http.get("/analytics", params={"from": today, "to": today}, headers=auth).json()
        assert got["searches"] == 3
        assert got["top_queries"][0] == {"name": "窓口キャッシュレス", "count": 2}
        assert {"name": "問い合わせ ＊＊＊ 電子申請", "count": 1} in got["top_queries"]
        assert got["per_day"] == [{"day": today, "count": 3}]
        csv_answer = http.get("/analytics", params={"format": "csv"}, headers=auth)
        assert csv_answer.headers["content-type"].startswith("text/csv")
        assert "090-1234" not in csv_answer.text and "大分県" in csv_answer.text
        assert_error(http.get("/analytics"), 401, "Authorization")
        assert_error(http.get("/analytics", params={"from": "2026-13-01"}, headers=auth), 422)
        assert_error(
            http.get("/analytics", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=auth),
            422,
            "from",
        )
        page = http.get("/admin")
        assert page.status_code == 200 and "検索ログの集計" in page.text
    with sqlite3.connect(path) as conn:
        (filters,) = conn.execute("SELECT filters FROM searches LIMIT 1").fetchone()
    assert json.loads(filters) == {"prefecture": "大分県"}


def test_searches_answer_when_the_log_cannot_be_written(
    tmp_path, api_settings, api_engine, start_server
):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings = api_settings.model_copy(update={"log_path": blocker / "searchlog.sqlite3"})
    with (
        start_server(settings, api_engine) as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        for _ in range(3):
            answer = http.get("/search", params={"q": "窓口キャッシュレス"})
            assert answer.status_code == 200 and answer.json()["passages"]


def _mount_tmpfs(folder: Path, size: str) -> bool:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    return done.returncode == 0


def test_searches_answer_when_the_disk_is_full(tmp_path, api_settings, api_engine, start_server):
    disk = tmp_path / "full"
    disk.mkdir()
    if not _mount_tmpfs(disk, "256k"):
        pytest.skip("mounting a small tmpfs needs root (the unwritable-log test covers the rest)")
    try:
        settings = api_settings.model_copy(update={"log_path": disk / "searchlog.sqlite3"})
        with (
            start_server(settings, api_engine) as base,
            httpx.Client(base_url=base, timeout=60) as http,
        ):
            assert http.get("/search", params={"q": "電子申請"}).status_code == 200
            filler = disk / "filler"
            try:  # the disk fills up under the running log
                with open(filler, "wb") as out:
                    while True:
                        out.write(b"\0" * 4096)
                        out.flush()
            except OSError:
                pass
            for i in range(10):
                q = f"窓口キャッシュレスの事例 {i} " + "長い検索語" * 20
                answer = http.get("/search", params={"q": q})
                assert answer.status_code == 200 and answer.json()["passages"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
