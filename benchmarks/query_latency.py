"""Query latency in-process: the query embedding alone against the full search in each mode, and the query-time
steps of the quality levers, one run.

Usage: .venv/bin/python benchmarks/query_latency.py [--index-dir DIR] [--repeat 3] [--questions 300]

Without --index-dir the bundled corpus is indexed into a temporary directory. Queries are the dev queries
(cycled `--repeat` times) and the first `--questions` JSQuAD valid questions; every measurement sees the same
queries in the same order, interleaved. Lever steps, timed on each hybrid answer: its highlights (query words
and the marks on its 10 passages), the municipality ranking, and the choice of the dense share for the query
(cross-lingual weight), word evidence on the 30 best fused passages and the kind of government asked (the
answer is the default engine's, word evidence on; "hybrid without word evidence" turns it off). Attribution costs nothing at query time (it is worked out when indexing).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import time
from pathlib import Path

import kit


def squad_questions(limit: int) -> list[str]:
    """The first `limit` JSQuAD valid questions (none when the file is not there)."""
    if not limit or not kit.JSQUAD.is_file():
        return []
    found = [
        qa["question"] for doc in kit.jsquad() for para in doc["paragraphs"] for qa in para["qas"]
    ]
    return found[:limit]


def lever_steps(engine, query: str, answer: dict) -> dict[str, float]:
    """Seconds each query-time lever step takes on one hybrid answer."""
    from search import evidence, expansion, fusion
    from search.facets import facets
    from search.highlight import query_terms, spans_of_terms
    from search.kinds import asked_kinds
    from search.ranking import rank_places

    steps = {
        "highlights worked out anew (no stored words: Milvus, older segments)": lambda: [
            spans_of_terms(p["text"], terms)
            for terms in [query_terms(query)]
            for p in answer["passages"]
        ],
        "municipality ranking": lambda: rank_places(answer["passages"]),
        "cross-lingual weight": lambda: fusion.dense_weight_for(query, engine.dense_weight),
        "facets (top 100 candidates)": lambda: facets(engine.view.facet_rows(pool)),
        "word evidence (query words, IDF, 30 passages)": lambda: evidence.scores(
            query,
            words(),
            evidence.idf_weights(words(), engine.view.lexical_stats(list(words()))),
            engine.view.texts(pool[: fusion.EVIDENCE_DEPTH]),
        ),
        "kind of government asked": lambda: asked_kinds(query),
        "query side alone (BM25, evidence words, kinds, highlight words; overlaps the forward pass)": (
            lambda: engine._query_side(engine.view, query, 100, None, "hybrid")
        ),
        "query side without expansion": (
            lambda: engine._query_side(engine.view, query, 100, None, "hybrid", False)
        ),
        "expansion (synonyms and variants the index holds)": lambda: expansion.expand(
            query,
            engine.view.manifest.synonyms,
            engine.thesaurus,
            lambda terms: engine.view.lexical_stats(terms).df,
        ),
    }
    side = functools.partial(engine._query_side, engine.view, query, 100, None, "hybrid")
    pool = engine._rank(engine.view, query, 10, "hybrid", None, 100, side)[0].pool
    words = lambda: evidence.query_words(query)  # noqa: E731
    took = {}
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        took[name] = time.perf_counter() - began
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    from indexer.model.base import Embedder
    from search.engine import Engine

    embedder = Embedder.load()
    index_dir = args.index_dir or kit.bundled_index(embedder)
    engine = Engine(index_dir, embedder)
    plain = Engine(index_dir, embedder, word_evidence=False)
    queries = kit.dev_queries() * args.repeat + squad_questions(args.questions)
    engine.search(queries[0])  # warm-up
    times: dict[str, list[float]] = {
        "embed": [],
        "hybrid": [],
        "dense": [],
        "lexical": [],
        "hybrid without word evidence": [],
        "hybrid without expansion": [],
        "similar": [],
    }
    levers: dict[str, list[float]] = {}
    for q in queries:
        for name in times:
            if name == "similar":
                passage_id = engine.search(q, 1, "lexical")["passages"][0]["id"]
                began = time.perf_counter()
                engine.similar(passage_id, 10)
                times[name].append(time.perf_counter() - began)
                continue
            began = time.perf_counter()
            answer = (
                embedder.encode_queries([q])
                if name == "embed"
                else plain.search(q, 10)
                if name == "hybrid without word evidence"
                else engine.search(q, 10, expand=False)
                if name == "hybrid without expansion"
                else engine.search(q, 10, name)
            )
            times[name].append(time.perf_counter() - began)
            if name == "hybrid":
                for step, took in lever_steps(engine, q, answer).items():
                    levers.setdefault(step, []).append(took)
    if not args.index_dir:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
    pct = kit.percentile
    times = {name: kit.millis(values) for name, values in times.items()}
    levers = {name: kit.millis(values) for name, values in levers.items()}
    embed50 = pct(times["embed"], 50)
    print(
        f"index={index_dir} chunks={engine.view.size} faiss={engine.view.manifest.faiss_index} "
        f"queries={len(queries)} cpus={os.cpu_count()}\n"
    )
    print("| measurement | p50 ms | p95 ms | mean ms | p50 / embed p50 |\n|---|---|---|---|---|")
    for name, values in times.items():
        label = {
            "embed": "query embedding alone",
            "similar": "similar cases of the top passage (k=10)",
        }.get(name, f"search mode={name} (k=10)")
        print(
            f"| {label} | {pct(values, 50):.1f} | {pct(values, 95):.1f} | {statistics.mean(values):.1f} | "
            f"{pct(values, 50) / embed50:.2f} |"
        )
    print("\n| lever step (on the hybrid answer) | p50 ms | p95 ms |\n|---|---|---|")
    for name, values in levers.items():
        print(f"| {name} | {pct(values, 50):.2f} | {pct(values, 95):.2f} |")


if __name__ == "__main__":
    main()
