"""`search_cases` over MCP against `GET /search` on the same queries, interleaved, on one `jsearch serve`.

Usage: .venv/bin/python benchmarks/mcp_latency.py [--index-dir DIR] [--queries 100]

Three clients on loopback, each query asked of all three in turn (the order rotates): `GET /search` with httpx;
the MCP SDK's own client (`ClientSession.call_tool("search_cases")` over streamable HTTP: JSON-RPC, the answer
validated against the tool's output schema); and one bare `tools/call` POST with httpx (the server's MCP path
without the SDK client's work). Every MCP answer is checked against the GET /search answer (same passages and
municipalities). Without --index-dir the bundled corpus is indexed into a temporary directory first. The
server's MCP rate limit is raised for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import anyio
import httpx
import kit

RAW_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "Mcp-Protocol-Version": "2025-06-18",
}


async def measure(base: str, queries: list[str]) -> tuple[dict[str, list[float]], int]:
    """Seconds per query for each client, and how many MCP answers differed from GET /search."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    times: dict[str, list[float]] = {"get": [], "sdk": [], "raw": []}
    differ = 0
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as http,
        create_mcp_http_client() as mcp_http,
        streamable_http_client(f"{base}/mcp", http_client=mcp_http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.list_tools()

        async def get(q: str) -> dict:
            response = await http.get("/search", params={"q": q})
            response.raise_for_status()
            return response.json()

        async def sdk(q: str) -> dict:
            result = await session.call_tool("search_cases", {"query": q})
            assert not result.is_error, result
            return result.structured_content or {}

        async def raw(q: str) -> dict:
            call = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "search_cases", "arguments": {"query": q}},
            }
            response = await http.post("/mcp", json=call, headers=RAW_HEADERS)
            response.raise_for_status()
            return response.json()["result"]["structuredContent"]

        clients = {"get": get, "sdk": sdk, "raw": raw}
        for q in queries[:3]:  # warm-up
            for ask in clients.values():
                await ask(q)
        names = list(clients)
        for i, q in enumerate(queries):
            answers = {}
            for name in names[i % 3 :] + names[: i % 3]:
                began = time.perf_counter()
                answers[name] = await clients[name](q)
                times[name].append(time.perf_counter() - began)
            for name in ("sdk", "raw"):
                same = all(
                    answers[name][key] == answers["get"][key]
                    for key in ("passages", "municipalities")
                )
                differ += not same
    return times, differ


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--model")
    parser.add_argument("--queries", type=int, default=100, help="queries (dev queries, cycled)")
    args = parser.parse_args()

    from api.settings import Settings
    from indexer.model.base import Embedder

    settings = Settings()
    embedder = Embedder.load(args.model or settings.model, settings.cache_dir)
    index_dir = args.index_dir or kit.bundled_index(embedder)
    scratch = None if args.index_dir else index_dir.parent
    base_queries = kit.dev_queries()
    queries = [base_queries[i % len(base_queries)] for i in range(args.queries)]

    limits = {"JSEARCH_MCP_RATE": "100000", "JSEARCH_MCP_BURST": "100000"}
    server = kit.start_server(index_dir, model=args.model, env=limits)
    try:
        times, differ = anyio.run(measure, server.base, queries)
    finally:
        server.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    pct = kit.percentile
    print(
        f"model={embedder.info.name} index={index_dir} queries={len(queries)} (distinct "
        f"{len(set(queries))}) cpus={os.cpu_count()} MCP answers differing from GET /search: {differ}\n"
    )
    print("| client | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|")
    rows = {
        "get": "GET /search (httpx)",
        "sdk": "search_cases, MCP SDK client",
        "raw": "search_cases, bare tools/call POST",
    }
    for key, label in rows.items():
        ms = kit.millis(times[key])
        print(
            f"| {label} | {len(ms)} | {pct(ms, 50):.1f} | {pct(ms, 95):.1f} | {statistics.mean(ms):.1f} |"
        )
    get50 = pct(kit.millis(times["get"]), 50)
    for key in ("sdk", "raw"):
        extra = pct(kit.millis(times[key]), 50) - get50
        print(f"\n{rows[key]}: p50 {extra:+.1f} ms against GET /search", end="")
    print()
    print(json.dumps({k: round(pct(kit.millis(v), 50), 2) for k, v in times.items()}))


if __name__ == "__main__":
    main()
