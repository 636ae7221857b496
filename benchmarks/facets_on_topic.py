"""Honest facets: on the dev queries over the bundled corpus, the prefecture facet values an answer offers and how
many of the answers narrowed by one of them stay on topic, with all 100 best candidates counted (before) against
the candidates within a share of the way from the weakest to the best score (after; several shares side by side).

Usage: .venv/bin/python benchmarks/facets_on_topic.py [--top 3] [--shares 0.3,0.5,0.6,0.7,0.8] [--out FILE]

A narrowed answer (the query again with `prefecture=` the facet value, k=10) is on topic when one of its `--top`
best-ranked municipalities is one the dev file grades relevant to the query (a prefecture-level case: that
prefecture itself). "kept" is the share of queries whose relevant prefecture is still offered as a facet value.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
from pathlib import Path

import kit


def relevant(path: Path = kit.DEV_QUERIES) -> list[tuple[str, set[tuple[str, str]]]]:
    """Each dev query with its relevant (prefecture, municipality name) pairs, grade ≥ 1."""
    found = json.loads(path.read_text("utf-8"))["queries"]
    return [(q["q"], {(p, n) for p, n, g in q["relevant"] if g >= 1}) for q in found]


def on_topic(answer: dict, wanted: set[tuple[str, str]], top: int) -> bool:
    """Whether one of the answer's `top` municipalities is a relevant one (a prefecture case: the prefecture)."""
    for place in answer["municipalities"][:top]:
        name = "" if place["level"] == "prefecture" else place["name"]
        if (place["prefecture"], name) in wanted:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--shares", default="0.3,0.5,0.6,0.7,0.8")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from indexer.model.base import Embedder
    from indexer.stores.base import Filters
    from search.engine import Engine
    from search.facets import FACET_DEPTH, RELEVANT_SHARE, facets, relevant_count

    embedder = Embedder.load()
    index_dir = kit.bundled_index(embedder)
    engine = Engine(index_dir, embedder, query_cache=256)
    queries = relevant()
    shares = [0.0, *(float(s) for s in args.shares.split(","))]

    @functools.cache
    def narrowed(q: str, mode: str, prefecture: str) -> dict:
        return engine.search(q, 10, mode, Filters(prefecture=prefecture))

    lines = [
        f"index: bundled corpus, {engine.view.size} passages, {len(queries)} dev queries, "
        f"on topic = a relevant municipality among the narrowed answer's top {args.top}; cpus={os.cpu_count()}",
        "",
        "| mode | counted | candidates counted (mean) | prefecture values offered (mean) | "
        "narrowed answers | on topic | kept the relevant prefecture |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ("hybrid", "dense", "lexical"):
        for share in shares:
            counted = offered = good = 0
            kept = 0
            for q, wanted in queries:
                side = functools.partial(engine._query_side, engine.view, q, 100, None, mode)
                ranked = engine._rank(engine.view, q, 10, mode, None, 100, side)[0]
                n = (
                    len(ranked.pool)
                    if share == 0.0
                    else relevant_count(ranked.pool_scores, ranked.floor, share)
                )
                values = [
                    v["name"] for v in facets(engine.view.facet_rows(ranked.pool[:n]))["prefecture"]
                ]
                counted += n
                offered += len(values)
                good += sum(on_topic(narrowed(q, mode, v), wanted, args.top) for v in values)
                kept += any(p in values for p, _ in wanted)
            label = (
                f"all {FACET_DEPTH} best (before)"
                if share == 0.0
                else f"share ≥ {share}" + (" (chosen)" if share == RELEVANT_SHARE else "")
            )
            lines.append(
                f"| {mode} | {label} | {counted / len(queries):.1f} | {offered / len(queries):.1f} | "
                f"{offered} | {good}/{offered} = {good / max(offered, 1):.0%} | "
                f"{kept}/{len(queries)} |"
            )
    shutil.rmtree(index_dir.parent, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
