"""Quality after many small writes: JSQuAD valid nDCG@10 of an index grown by 500 single-article writes and deletes
(merged by the tiered policy as `jsearch add` does) against a freshly built index of the same articles, then after
a forced merge to one segment.

Method: the 1,145 JSQuAD valid paragraphs are the articles. The fresh index gets all of them in one write. The grown
index gets all but 250 in one write, then 500 single-article writes: the 250 held back, one at a time, interleaved
with 125 decoys (a real paragraph with a sentence added, under its own id) each added and later deleted. After every
write the merge policy runs (`merge.maybe_merge`), as after `jsearch add`. Both indexes share one embedding cache and
every query vector is computed once, so the two are compared on the same vectors.

Usage: .venv/bin/python benchmarks/segments_quality.py [--squad PATH] [--work /tmp/jsearch-segq]
                                                      [--modes hybrid dense lexical] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path

import kit

from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.stores import manifest
from indexer.stores.faiss import layout, merge
from indexer.write import changes, indexing
from search.engine import Engine
from search.evaluation import K_PASSAGES, evaluate, read_eval_file

HELD_BACK = 250
DECOYS = 125


class QueryCache:
    """The embedder with query vectors remembered across engines (documents go through unchanged)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.vectors = inner, {}

    def encode_queries(self, texts: list[str]):
        import numpy as np

        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.encode_queries(missing)))
        return np.stack([self.vectors[t] for t in texts])

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def fresh_dir(work: Path, name: str) -> Path:
    path = work / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "cache").symlink_to(work / "cache")
    return path


def searcher(engine: Engine):
    """What `evaluate` calls for each query and mode."""
    return lambda query, mode: engine.search(query, K_PASSAGES, mode)


def grow(target: Path, articles: list, embedder, rng: random.Random) -> dict:
    """Build all but the held-back articles, then 500 single-article writes with merges; returns counts."""
    held = rng.sample(range(len(articles)), HELD_BACK)
    kept = [a for i, a in enumerate(articles) if i not in set(held)]
    indexing.apply(target, changes.Change(upsert=tuple(kept)), embedder)
    decoys = [
        replace(
            a,
            id=f"decoy{i:04d}",
            text=a.text + "\nこの段落は差し替え前の版です。",
            path=f"decoy/{i}",
        )
        for i, a in enumerate(rng.sample(articles, DECOYS))
    ]
    writes: list[changes.Change] = [changes.Change(upsert=(articles[i],)) for i in held]
    for decoy in decoys:
        at = rng.randrange(len(writes) + 1)
        writes.insert(at, changes.Change(upsert=(decoy,)))
        writes.insert(rng.randrange(at + 1, len(writes) + 1), changes.Change(remove=(decoy.id,)))
    merges, seconds = 0, []
    for change in writes:
        seconds.append(indexing.apply(target, change, embedder).seconds)
        merges += (
            indexing.merge_after(target) is not None
        )  # the tiered policy, as after `jsearch add`
    info = manifest.read(layout.IndexDir(target).require_current())
    return {
        "writes": len(writes),
        "merges": merges,
        "segments": len(info.segments),
        "articles": info.articles,
        "deleted_marks": sum(len(s["deleted"]) for s in info.segments),
        "write_seconds_p50": kit.percentile(seconds, 50),
        "write_seconds_max": max(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=kit.JSQUAD)
    parser.add_argument("--work", type=Path, default=Path("/tmp/jsearch-segq"))
    parser.add_argument("--modes", nargs="+", default=["hybrid"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    evalset = read_eval_file(args.squad)
    articles = list(evalset.articles)
    (args.work / "cache").mkdir(parents=True, exist_ok=True)
    embedder, gazetteer = QueryCache(Embedder.load()), Gazetteer.load()
    began = time.perf_counter()
    one = fresh_dir(args.work, "fresh")
    indexing.apply(one, changes.Change(upsert=tuple(articles)), embedder)
    grown = fresh_dir(args.work, "grown")
    history = grow(grown, articles, embedder, random.Random(7))
    print(
        f"built both indexes in {time.perf_counter() - began:.0f} s; grown: {json.dumps(history)}",
        flush=True,
    )
    results = {}
    for name, path in (("fresh (1 write)", one), ("grown (500 writes, policy merges)", grown)):
        results[name] = evaluate(evalset, searcher(Engine(path, embedder, gazetteer)), args.modes)
        print(
            name,
            json.dumps({m: r["summary"] for m, r in results[name]["modes"].items()}),
            flush=True,
        )
    forced = merge.maybe_merge(grown, max_segments=1)
    name = "grown, then merged to 1 segment"
    results[name] = evaluate(evalset, searcher(Engine(grown, embedder, gazetteer)), args.modes)
    print(f"forced merge: {forced}")
    print("\n| index | mode | nDCG@10 | R@1 | MRR@10 |\n|---|---|---|---|---|")
    for name, result in results.items():
        for mode, data in result["modes"].items():
            s = data["summary"]
            print(f"| {name} | {mode} | {s['nDCG@10']:.4f} | {s['R@1']:.4f} | {s['MRR@10']:.4f} |")
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "history": history,
                    "summaries": {
                        n: {m: r["summary"] for m, r in res["modes"].items()}
                        for n, res in results.items()
                    },
                },
                indent=1,
            ),
            "utf-8",
        )


if __name__ == "__main__":
    main()
