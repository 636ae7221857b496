"""HTTP search latency against the bare query embedding in one run, then concurrent clients for a while.

Usage: .venv/bin/python benchmarks/api_latency.py [--index-dir DIR] [--queries N] [--seconds 60] [--clients 16]

Without --index-dir the bundled corpus is indexed into a temporary directory first. The server is a real
`jsearch serve` subprocess on loopback (its own process, so client and server do not share a GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import time
from pathlib import Path

import httpx
import kit


def sequential(base: str, queries: list[str]) -> list[float]:
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in queries:
            began = time.perf_counter()
            response = client.get("/search", params={"q": q})
            times.append(time.perf_counter() - began)
            response.raise_for_status()
    return times


async def soak(
    base: str, queries: list[str], clients: int, seconds: float
) -> tuple[list[float], int, int]:
    """`clients` concurrent loops for `seconds`; returns latencies, errors, requests."""
    times: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def one(worker: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            i = worker
            while time.monotonic() < stop:
                began = time.perf_counter()
                try:
                    response = await client.get("/search", params={"q": queries[i % len(queries)]})
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                times.append(time.perf_counter() - began)
                i += clients

    await asyncio.gather(*(one(w) for w in range(clients)))
    return times, errors, len(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--model")
    parser.add_argument(
        "--queries", type=int, default=100, help="sequential queries (dev queries, cycled)"
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    from api.settings import Settings
    from indexer.model.base import Embedder

    settings = Settings()
    embedder = Embedder.load(args.model or settings.model, settings.cache_dir)
    index_dir = args.index_dir or kit.bundled_index(embedder)
    scratch = None if args.index_dir else index_dir.parent
    base_queries = kit.dev_queries()
    queries = [base_queries[i % len(base_queries)] for i in range(args.queries)]

    embedder.encode_queries(base_queries[:3])  # warm-up
    bare = []
    for q in queries:
        began = time.perf_counter()
        embedder.encode_queries([q])
        bare.append(time.perf_counter() - began)

    server = kit.start_server(index_dir, model=args.model)
    try:
        sequential(server.base, base_queries[:3])  # warm-up
        http = sequential(server.base, queries)
        soaked, errors, total = asyncio.run(
            soak(server.base, base_queries, args.clients, args.seconds)
        )
    finally:
        server.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    bare, http, soaked = kit.millis(bare), kit.millis(http), kit.millis(soaked)
    pct = kit.percentile
    print(
        f"model={embedder.info.name} index={index_dir} queries={len(queries)} (distinct {len(set(queries))}) "
        f"cpus={os.cpu_count()}\n"
    )
    print("| measurement | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|")
    print(
        f"| bare encode_queries (1 query) | {len(bare)} | {pct(bare, 50):.1f} | {pct(bare, 95):.1f} | "
        f"{statistics.mean(bare):.1f} |"
    )
    print(
        f"| GET /search, 1 client | {len(http)} | {pct(http, 50):.1f} | {pct(http, 95):.1f} | "
        f"{statistics.mean(http):.1f} |"
    )
    print(
        f"| ratio HTTP / bare | | {pct(http, 50) / pct(bare, 50):.2f} | {pct(http, 95) / pct(bare, 95):.2f} | "
        f"{statistics.mean(http) / statistics.mean(bare):.2f} |"
    )
    print(f"\n{args.clients} concurrent clients for {args.seconds:.0f} s:\n")
    print("| clients | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.clients} | {total} | {total / args.seconds:.1f} | {pct(soaked, 50):.1f} | {pct(soaked, 99):.1f} | "
        f"{errors} |"
    )


if __name__ == "__main__":
    main()
