"""Concurrent searches through the real server share forward passes and answer exactly what lone searches answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

QUERIES = [
    "窓口キャッシュレスの事例",
    "LINEで行政手続きができる自治体",
    "マイナンバーカードを使った独自サービス",
    "職員向けのBPR研修",
    "郵便物の集計業務の自動化",
    "RPAで業務を効率化した市",
    "オンライン申請の導入",
    "ワクチン接種予約をLINEで",
    "ガバメントクラウドへの移行",
    "テレワークの導入支援",
    "AI 議事録",
    "スマート窓口",
    "How did cities go cashless?",
    "電子申請 子育て",
    "公共施設予約",
    "チャットボット",
]


def _ids(answer: dict) -> list[tuple[str, float]]:
    return [(p["id"], round(p["score"], 4)) for p in answer["passages"]]


def test_concurrent_searches_are_batched_and_answer_as_alone(server, client):
    alone = {q: _ids(client.get("/search", params={"q": q}).json()) for q in QUERIES}
    before = client.get("/health").json()["embedding"]

    def ask(q: str) -> tuple[str, int, dict]:
        with httpx.Client(base_url=server, timeout=60) as own:
            response = own.get("/search", params={"q": q})
            return q, response.status_code, response.json()

    with ThreadPoolExecutor(len(QUERIES)) as pool:
        answers = list(pool.map(ask, QUERIES * 3))
    assert all(status == 200 for _, status, _ in answers)
    for q, _, answer in answers:
        got = _ids(answer)
        assert [i for i, _ in got] == [i for i, _ in alone[q]], q
        assert all(abs(a - b) <= 2e-4 for (_, a), (_, b) in zip(got, alone[q])), q
    after = client.get("/health").json()["embedding"]
    assert after["queries"] - before["queries"] == len(QUERIES) * 3
    assert after["batches"] - before["batches"] < len(QUERIES) * 3 and after["largest_batch"] > 1
