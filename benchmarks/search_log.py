"""The search log's cost on GET /search: the same server code with the log on and off (JSEARCH_LOG=false), side by
side, requests interleaved so both see the same machine load; and how long the log takes to hold them all.

Usage: .venv/bin/python benchmarks/search_log.py [--repeat 10]

Two in-process servers over one bundled index (each its own log file); the dev queries, cycled `--repeat` times,
are sent one at a time to each server in turn, each first every other time (k=10, hybrid). Reported: p50/p95/mean ms per server, rows in the log.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import time
from contextlib import ExitStack

import httpx
import kit


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    from api.settings import Settings
    from indexer.model.base import Embedder
    from search.engine import Engine

    embedder = Embedder.load()
    index_dir = kit.bundled_index(embedder)
    logs = {"log on": index_dir.parent / "on.sqlite3", "log off": index_dir.parent / "off.sqlite3"}
    queries = kit.dev_queries() * args.repeat
    times: dict[str, list[float]] = {name: [] for name in logs}
    try:
        with ExitStack() as stack:
            clients = {}
            for name, path in logs.items():
                settings = Settings(index_dir=index_dir, log=name == "log on", log_path=path)
                base = stack.enter_context(
                    kit.serve_in_thread(settings, Engine(index_dir, embedder))
                )
                clients[name] = stack.enter_context(httpx.Client(base_url=base, timeout=60))
            for client in clients.values():  # warm-up
                client.get("/search", params={"q": queries[0]}).raise_for_status()
            order = list(clients.items())
            for i, q in enumerate(queries):
                for name, client in (
                    order if i % 2 == 0 else order[::-1]
                ):  # each goes first half the time
                    began = time.perf_counter()
                    client.get("/search", params={"q": q}).raise_for_status()
                    times[name].append(time.perf_counter() - began)
            time.sleep(1.0)  # the writer thread drains its queue
        rows = {}
        for name, path in logs.items():
            if path.is_file():
                with sqlite3.connect(path) as conn:
                    rows[name] = conn.execute("SELECT COUNT(*) FROM searches").fetchone()[0]
            else:
                rows[name] = 0
    finally:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
    print(
        f"GET /search over the bundled index, {len(queries)} requests per server interleaved "
        f"(dev queries × {args.repeat}, k=10, hybrid); cpus={os.cpu_count()} "
        f"loadavg={os.getloadavg()[0]:.2f}\n"
    )
    print("| server | p50 ms | p95 ms | mean ms | rows in its log |\n|---|---|---|---|---|")
    for name, values in times.items():
        ms = kit.millis(values)
        print(
            f"| {name} | {kit.percentile(ms, 50):.1f} | {kit.percentile(ms, 95):.1f} | "
            f"{statistics.mean(ms):.1f} | {rows[name]} |"
        )


if __name__ == "__main__":
    main()
