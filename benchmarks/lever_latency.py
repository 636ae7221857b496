"""Query-time cost of the quality levers, in-process, one run: each step of a search timed on the same queries.

Usage: python benchmarks/lever_latency.py [--index-dir DIR] [--questions 300]

Without --index-dir the bundled corpus is indexed into a temporary directory. Queries: the dev queries and the
first JSQuAD valid questions, each searched once for warm-up and then timed. Steps: the whole `Engine.search`
(k 10, hybrid); the highlights of its answer (query words and the marks on its 10 passages); the municipality
ranking; the cross-lingual weight (choosing the dense share for the query). Attribution costs nothing at query
time (it is worked out when indexing).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_latency import bundled_index, dev_queries, pct  # noqa: E402

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "jsquad" / "valid-v1.3.json"


def questions(limit: int) -> list[str]:
    data = json.loads(SQUAD.read_text("utf-8"))
    found = [qa["question"] for doc in data["data"] for para in doc["paragraphs"] for qa in para["qas"]]
    return found[:limit]


def timed(step, values: list[float]) -> object:
    began = time.perf_counter()
    out = step()
    values.append(time.perf_counter() - began)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    from indexer.embedder import Embedder
    from search import fusion
    from search.engine import Engine
    from search.highlight import query_terms, spans_of_terms
    from search.ranking import rank_places

    embedder = Embedder.load()
    engine = Engine(args.index_dir or bundled_index(embedder), embedder)
    queries = dev_queries() + questions(args.questions)
    for query in queries:
        engine.search(query, 10)
    steps: dict[str, list[float]] = {"search (all)": [], "highlights": [], "municipality ranking": [],
                                     "cross-lingual weight": []}
    for query in queries:
        answer = timed(lambda: engine.search(query, 10), steps["search (all)"])
        texts = [p["text"] for p in answer["passages"]]
        timed(lambda: [spans_of_terms(t, terms) for terms in [query_terms(query)] for t in texts], steps["highlights"])
        timed(lambda: rank_places(answer["passages"]), steps["municipality ranking"])
        timed(lambda: fusion.dense_weight_for(query, engine.dense_weight), steps["cross-lingual weight"])
    print(f"{len(queries)} queries (dev + JSQuAD valid), k 10, hybrid\n")
    print("| step | p50 ms | p95 ms |\n|---|---|---|")
    for name, values in steps.items():
        print(f"| {name} | {pct(values, 50):.2f} | {pct(values, 95):.2f} |")


if __name__ == "__main__":
    main()
