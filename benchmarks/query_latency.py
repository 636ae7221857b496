"""Query latency in-process: the query embedding alone against the full search in each mode, one run.

Usage: python benchmarks/query_latency.py [--index-dir DIR] [--repeat 3]

Without --index-dir the bundled corpus is indexed into a temporary directory. Queries are the dev queries
(cycled `--repeat` times); every measurement sees the same queries in the same order, interleaved.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_latency import bundled_index, dev_queries, pct  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from indexer.embedder import Embedder
    from search.engine import Engine

    embedder = Embedder.load()
    index_dir = args.index_dir or bundled_index(embedder)
    engine = Engine(index_dir, embedder)
    queries = dev_queries() * args.repeat
    engine.search(queries[0])  # warm-up
    times: dict[str, list[float]] = {"embed": [], "hybrid": [], "dense": [], "lexical": []}
    for q in queries:
        for name in times:
            began = time.perf_counter()
            embedder.encode_queries([q]) if name == "embed" else engine.search(q, 10, name)
            times[name].append(time.perf_counter() - began)
    if not args.index_dir:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
    embed50 = pct(times["embed"], 50)
    print(f"index={index_dir} chunks={engine.generation.size} faiss={engine.generation.manifest.faiss_index} "
          f"queries={len(queries)} cpus={os.cpu_count()}\n")
    print("| measurement | p50 ms | p95 ms | mean ms | p50 / embed p50 |\n|---|---|---|---|---|")
    for name, values in times.items():
        label = "query embedding alone" if name == "embed" else f"search mode={name} (k=10)"
        print(f"| {label} | {pct(values, 50):.1f} | {pct(values, 95):.1f} | {statistics.mean(values) * 1000:.1f} | "
              f"{pct(values, 50) / embed50:.2f} |")


if __name__ == "__main__":
    main()
