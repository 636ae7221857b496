"""Saved searches and percolation, side by side in one run.

Usage: .venv/bin/python benchmarks/saved_searches.py [--parts calibrate,feed,cost] [--out FILE]

- calibrate: on the dev queries over the bundled corpus, every (query, passage) pair scored as percolation scores
  it (dense cosine, IDF share of the query's words); a pair is relevant when the passage's subject is a municipality
  the dev file grades relevant. Precision, recall and F1 for a grid of the two thresholds; the chosen pair marked.
- feed: a real server over the bundled index; one saved search (「窓口キャッシュレスの事例」) is saved, then 50
  articles are written through POST /articles: 10 about cashless payment at a municipal counter (they answer it),
  40 about other DX cases, some sharing words (窓口, キャッシュレス) or the topic of others. The feed's precision and
  recall against that key; feedparser reads the feed (bozo flag), and the entries' order.
- cost: percolation of a write's new passages against 1, 100, 1,000 and 10,000 saved searches (in process, the
  product's code): ms per write and ms per saved search per new passage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np

import kit

SAVED_QUERY = "窓口キャッシュレスの事例"


def calibrate(embedder, index_dir: Path) -> list[str]:
    import json

    from indexer.analysis.normalize import lexical_form
    from search import evidence, percolate
    from search.engine import Engine

    engine = Engine(index_dir, embedder)
    view = engine.view
    rows = np.arange(view.size, dtype=np.int64)
    vectors = np.stack([view.vector_of(int(r)) for r in rows])
    forms = [lexical_form(t) for t in view.texts(rows)]
    _, mentions = view.fetch(rows)
    subjects = [
        {(m["prefecture"], "" if m["level"] == "prefecture" else m["name"]) for m in mentions.get(int(r), [])
         if m["role"] == "subject"}
        for r in rows
    ]
    dev = json.loads(kit.DEV_QUERIES.read_text("utf-8"))["queries"]
    dense, cover, label = [], [], []
    for q in dev:
        wanted = {(p, n) for p, n, g in q["relevant"] if g >= 1}
        vector = embedder.encode_queries([q["q"]])[0]
        words, weights = percolate.query_parts(q["q"], view.lexical_stats(list(evidence.query_words(q["q"]))))
        dense += list(vectors @ vector)
        cover += [evidence.coverage(words, weights, f) if words else 1.0 for f in forms]
        label += [bool(s & wanted) for s in subjects]
    d, c, y = np.array(dense), np.array(cover), np.array(label)
    lines = [
        f"calibration: {len(dev)} dev queries × {len(rows)} bundled passages = {len(y)} pairs, "
        f"{int(y.sum())} relevant",
        "",
        "| dense ≥ | word share ≥ | matched | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    best = (0.0, 0.0, 0.0)
    results = []
    for dmin in np.arange(0.80, 0.901, 0.005):
        for cmin in (0.0, 0.25, 0.5, 0.75):
            hit = (d >= dmin) & (c >= cmin)
            tp = int((hit & y).sum())
            p = tp / max(int(hit.sum()), 1)
            r = tp / max(int(y.sum()), 1)
            f1 = 2 * p * r / max(p + r, 1e-9)
            results.append((round(float(dmin), 3), cmin, int(hit.sum()), p, r, f1))
            best = max(best, (f1, float(dmin), cmin))
    for dmin, cmin, n, p, r, f1 in results:
        chosen = abs(dmin - percolate.DENSE_MIN) < 1e-9 and cmin == percolate.COVERAGE_MIN
        if f1 >= best[0] - 0.1 or chosen:
            mark = " (chosen)" if chosen else ""
            lines.append(f"| {dmin:.3f}{mark} | {cmin} | {n} | {p:.2f} | {r:.2f} | {f1:.2f} |")
    lines.append(f"\nbest F1 {best[0]:.2f} at dense ≥ {best[1]:.3f}, word share ≥ {best[2]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="calibrate,feed,cost")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from indexer.model.base import Embedder

    embedder = Embedder.load()
    index_dir = kit.bundled_index(embedder)
    parts = args.parts.split(",")
    lines = [f"cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f}", ""]
    try:
        if "calibrate" in parts:
            lines += calibrate(embedder, index_dir) + [""]
        if "feed" in parts:
            lines += feed(embedder, index_dir) + [""]
        if "cost" in parts:
            lines += cost(embedder, index_dir) + [""]
    finally:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")


def feed(embedder, index_dir: Path) -> list[str]:
    return ["feed: not run"]


def cost(embedder, index_dir: Path) -> list[str]:
    return ["cost: not run"]


if __name__ == "__main__":
    main()
