"""Own synonym groups under a running server: how long a `PUT /synonyms` takes until the next `GET /search` answers
with it (no restart, no reindex), and what the query-time expansion costs with 0 to 10,000 own groups.

Usage: .venv/bin/python benchmarks/synonyms.py [--index-dir DIR] [--repeat 5]

One in-process server over the bundled index (or a copy of `--index-dir`'s); a group {電子申請, 電申} is PUT, then
「電申の導入事例」 is searched until its answer's `expanded` holds 電子申請. Then for 0/100/1,000/10,000 own groups
(the one above plus generated ones) the dev queries (× `--repeat`) go through `search.expansion.expand` in process:
p50/p95 ms.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import kit

KEY = "bench-key"
QUERY = "電申の導入事例"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from api.settings import Settings
    from indexer.model.base import Embedder
    from search import expansion
    from search.engine import Engine

    embedder = Embedder.load()
    work = Path(tempfile.mkdtemp(prefix="jsearch-synonyms-"))
    index_dir = work / "index"
    if args.index_dir:
        shutil.copytree(args.index_dir, index_dir, symlinks=True)
    else:
        kit.bundled_index(embedder, work)
    engine = Engine(index_dir, embedder)
    settings = Settings(index_dir=index_dir, api_key=KEY)
    with (
        kit.serve_in_thread(settings, engine) as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        before = http.get("/search", params={"q": QUERY}).json()
        began = time.perf_counter()
        put = http.put(
            "/synonyms",
            json={"groups": [["電子申請", "電申"]]},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        put_ms = (time.perf_counter() - began) * 1000
        tries = 0
        while "電子申請" not in http.get("/search", params={"q": QUERY}).json()["expanded"]:
            tries += 1
        seen_ms = (time.perf_counter() - began) * 1000
    print(f"index={index_dir} chunks={engine.view.size}\n")
    print("| step | ms |\n|---|---|")
    print(
        f"| PUT /synonyms answered (a new commit point, the server switched to it) | {put_ms:.1f} |"
    )
    print(
        f"| … until GET /search answers with the group ({tries} answers without it after the PUT) | {seen_ms:.1f} |"
    )
    print(f"\nbefore: expanded={before['expanded']}; PUT status {put.status_code}\n")
    view = engine.view
    queries = kit.dev_queries() * args.repeat
    print(
        "| own groups | folded once per commit point, ms | expansion p50 ms | p95 ms |\n|---|---|---|---|"
    )
    for size in (0, 100, 1_000, 10_000):
        groups = [["電子申請", "電申"]] + [[f"語{i}甲", f"語{i}乙"] for i in range(size - 1)]
        t = time.perf_counter()
        own = expansion.OwnGroups.of(groups[:size])
        fold_ms = (time.perf_counter() - t) * 1000
        took = []
        for q in queries:
            t = time.perf_counter()
            expansion.expand(q, own, engine.thesaurus, lambda terms: view.lexical_stats(terms).df)
            took.append(time.perf_counter() - t)
        ms = kit.millis(took)
        print(
            f"| {size:,} | {fold_ms:.1f} | {kit.percentile(ms, 50):.2f} | {kit.percentile(ms, 95):.2f} |"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
