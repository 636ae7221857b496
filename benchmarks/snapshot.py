"""Snapshot under load: `jsearch snapshot` while 8 clients query a server and a writer POSTs 100 articles, then
`jsearch restore` into a new folder; side by side: the restored index's answers to the dev queries and those of
the commit point the snapshot named (an engine that held it open), compared ignoring `took_ms` and the commit point's name."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx
import kit

KEY = "snapshot-bench"


def answers(engine, queries: list[str]) -> list[str]:
    """Each dev query's --json answer without `took_ms` and `generation` (a restored commit point is named anew
    in its index), as text: compared byte for byte."""
    out = []
    for query in queries:
        answer = engine.search(query, 10)
        answer.pop("took_ms"), answer.pop("generation")
        out.append(json.dumps(answer, ensure_ascii=False, sort_keys=True))
    return out


def write_articles(base: str, count: int, done: list) -> None:
    with httpx.Client(base_url=base, timeout=120) as http:
        for n in range(count):
            response = http.post(
                "/articles",
                headers={"Authorization": f"Bearer {KEY}"},
                json={
                    "title": f"ゆずりは町の電子申請 その{n}",
                    "body": f"ゆずりは町は第{n}期の電子申請サービスを始めた。窓口の手続きがオンラインになった。",
                    "url": f"https://example.jp/yuzuriha/{n}",
                },
            )
            done.append(response.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--articles", type=int, default=100)
    args = parser.parse_args()

    from indexer.model.base import Embedder
    from search.engine import Engine

    embedder = Embedder.load()
    work = Path(tempfile.mkdtemp(prefix="jsearch-snapshot-"))
    try:
        index = kit.bundled_index(embedder, work)
        queries = kit.dev_queries()
        statuses: list[int] = []
        with kit.start_server(index, env={"JSEARCH_API_KEY": KEY}) as server:
            with kit.Clients(server.base, queries, args.clients, distinct=True) as clients:
                writer = threading.Thread(
                    target=write_articles, args=(server.base, args.articles, statuses)
                )
                writer.start()
                while len(statuses) < args.articles // 2:  # half-way through the writes
                    time.sleep(0.05)
                for _ in range(
                    20
                ):  # an engine holding the commit point the snapshot is about to name
                    held = Engine(index, embedder)
                    began = time.perf_counter()
                    taken = kit.jsearch("snapshot", str(work / "snap"), "--index-dir", str(index))
                    seconds = time.perf_counter() - began
                    if taken["commit_point"] == held.view.name:
                        break
                    shutil.rmtree(work / "snap")  # a write slipped in between: take it again
                writer.join()
            load = clients.load
        restored = kit.jsearch("restore", str(work / "snap"), "--index-dir", str(work / "restored"))
        same = answers(Engine(work / "restored", embedder), queries) == answers(held, queries)
        ok = sum(1 for r in load.rows if r[2])
        print("| what | figure |\n|---|---|")
        print(f"| clients querying during the writes and the snapshot | {args.clients} |")
        print(f"| queries sent / failed | {len(load.rows)} / {len(load.rows) - ok} |")
        print(
            f"| query p50 / p99 (ms) | {kit.percentile(kit.millis([r[1] for r in load.rows]), 50):.1f} / "
            f"{kit.percentile(kit.millis([r[1] for r in load.rows]), 99):.1f} |"
        )
        print(f"| articles POSTed / answered 201 | {len(statuses)} / {statuses.count(201)} |")
        print(
            f"| snapshot of | {taken['commit_point']} ({taken['articles']} articles, {taken['files']} files, "
            f"{taken['bytes']:,} bytes) |"
        )
        print(f"| snapshot command (process start included) | {seconds:.2f} s |")
        print(
            f"| restored as | {restored['generation']} in a new folder, {restored['seconds']:.2f} s |"
        )
        print(
            f"| dev queries answered byte-identically (took_ms, generation aside) | "
            f"{'yes' if same else 'NO'} ({len(queries)} queries) |"
        )
        if load.errors:
            print("\nfirst failures:", *load.errors, sep="\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
