"""Writes while 16 clients search without pause: API add, CLI add, API delete, a 1,000-article reindex.

Usage: .venv/bin/python benchmarks/live_reindex.py [--clients 16] [--articles 1000] [--squad FILE]

A real `jsearch serve` on loopback serves a temporary index of the bundled corpus. While the clients query
it, each write runs in turn; the table gives, per phase, the queries answered, the failed ones, p50/p99
latency and the seconds from the start of the write until a probe query sees the change through the server.
The 1,000 articles are JSQuAD validation paragraphs written out as .txt files (one paragraph per article).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import httpx
import kit

KEY = "bench-key-" + os.urandom(8).hex()
PROBE = "ベンチマーク用の架空自治体ミナトミライ町がドローン配送の実証実験を開始"


def visible(base: str, query: str, wanted: bool, test, timeout: float = 900) -> float:
    """Poll the server until `test(answer)` equals `wanted`; returns the time it became so."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < deadline:
            answer = http.get("/search", params={"q": query, "k": 50, "mode": "lexical"}).json()
            if bool(test(answer)) == wanted:
                return time.monotonic()
            time.sleep(0.05)
    raise SystemExit(f"change not visible after {timeout} s: {query}")


def has_title(title: str):
    return lambda answer: any(p["title"] == title for p in answer["passages"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--squad", type=Path, default=kit.JSQUAD)
    args = parser.parse_args()
    from indexer.model.base import Embedder

    index_dir = kit.bundled_index(Embedder.load())
    scratch = index_dir.parent
    server = kit.start_server(index_dir, env={"JSEARCH_API_KEY": KEY})
    base = server.base
    clients = kit.Clients(base, kit.dev_queries(), args.clients)
    log = clients.load
    phases = []
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        clients.start()
        time.sleep(10)
        phases.append(
            (
                "baseline (no writes, 10 s)",
                log.rows[0][0] if log.rows else time.monotonic(),
                time.monotonic(),
                None,
            )
        )

        began = time.monotonic()
        body = {
            "title": "API追加記事: " + PROBE,
            "body": PROBE + "。住民の利便性向上を目指す。",
            "source": "bench",
        }
        added = httpx.post(base + "/articles", json=body, headers=auth, timeout=600).json()
        seen = visible(base, PROBE, True, has_title(body["title"]))
        phases.append(("POST /articles (API add)", began, seen, seen - began))

        began = time.monotonic()
        httpx.delete(
            base + f"/articles/{added['id']}", headers=auth, timeout=600
        ).raise_for_status()
        seen = visible(base, PROBE, False, has_title(body["title"]))
        phases.append(("DELETE /articles/{id} (API)", began, seen, seen - began))

        cli_file = scratch / "cli-article.txt"
        cli_file.write_text(f"CLI追加記事: {PROBE}\n\n{PROBE}。CLI から追加した。\n", "utf-8")
        began = time.monotonic()
        kit.jsearch("add", str(cli_file), "--index-dir", str(index_dir))
        seen = visible(base, PROBE, True, has_title(f"CLI追加記事: {PROBE}"))
        phases.append(("jsearch add (CLI, other process)", began, seen, seen - began))

        corpus = scratch / "jsquad-articles"
        last_title = kit.write_jsquad_articles(corpus, args.articles, args.squad)
        began = time.monotonic()
        summary = kit.jsearch("index", str(corpus), "--index-dir", str(index_dir))
        seen = visible(base, last_title, True, has_title(last_title))
        phases.append(
            (
                f"jsearch index of {args.articles} new articles ({summary['embedded_chunks']} chunks "
                "embedded)",
                began,
                seen,
                seen - began,
            )
        )

        began = time.monotonic()
        job = httpx.post(base + "/reindex", headers=auth, timeout=60).json()
        while (state := httpx.get(base + f"/jobs/{job['id']}", headers=auth).json())["status"] in (
            "queued",
            "running",
        ):
            time.sleep(0.2)
        done = time.monotonic()
        phases.append(
            (
                f"POST /reindex full ({state['status']}, {state['result']['articles']} articles)",
                began,
                done,
                done - began,
            )
        )
        time.sleep(3)
    finally:
        clients.stop()
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    rows = log.rows
    print(
        f"{args.clients} clients, {len(rows)} queries in all, failed {sum(not ok for _, _, ok in rows)}, "
        f"slowest {max(s for _, s, _ in rows) * 1000:.0f} ms, cpus={os.cpu_count()}\n"
    )
    print("| phase | queries | failed | p50 ms | p99 ms | seconds until visible |")
    print("|---|---|---|---|---|---|")
    for name, start, end, seconds in phases:
        window = log.window(start, end)
        times = kit.millis([s for _, s, _ in window])
        print(
            f"| {name} | {len(window)} | {sum(not ok for _, _, ok in window)} | "
            f"{kit.percentile(times, 50):.0f} | {kit.percentile(times, 99):.0f} | "
            f"{'' if seconds is None else f'{seconds:.2f}'} |"
        )


if __name__ == "__main__":
    main()
