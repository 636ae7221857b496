"""Indexing throughput against bare SentenceTransformer.encode of the same chunks, in one run.

Usage: python benchmarks/indexing.py [PATH ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from corpus.bundled import bundled_corpus_dir
from corpus.loaders import load_paths
from indexer.analysis.prepare import prepare
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.write import build


def bare_encode(embedder: Embedder, texts: list[str]) -> float:
    """Seconds for the model alone to embed the texts (passage prompt, same batch size)."""
    began = time.perf_counter()
    embedder.encode_passages(texts)
    return time.perf_counter() - began


def full_build(embedder: Embedder, articles, index_dir: Path) -> tuple[float, build.Report]:
    began = time.perf_counter()
    report = build.apply(index_dir, build.Change(upsert=tuple(articles)), embedder)
    return time.perf_counter() - began, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    articles = load_paths(args.paths or [bundled_corpus_dir()]).articles
    embedder, gazetteer = Embedder.load(), Gazetteer.load()
    info = embedder.info
    count = lambda texts: embedder.count_tokens([info.passage_prompt + t for t in texts])  # noqa: E731
    texts = [p.embed_text for a in articles for p in prepare(a, gazetteer, count, info.max_tokens)]
    embedder.encode_passages(texts[:32])  # warm-up
    rows = []
    for run in range(args.repeat):
        bare = bare_encode(embedder, texts)
        with tempfile.TemporaryDirectory() as tmp:
            first, report = full_build(embedder, articles, Path(tmp))
            again, second = full_build(embedder, articles, Path(tmp))
        rows.append(
            (
                run + 1,
                len(texts),
                bare,
                first,
                report.embedded_chunks,
                again,
                second.embedded_chunks,
            )
        )
    print(f"articles={len(articles)} passages={len(texts)} model={info.name}\n")
    print(
        "| run | passages | bare encode s | bare p/s | jsearch index s | index p/s | ratio | "
        "re-index unchanged s | re-embedded |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run, n, bare, first, embedded, again, re_embedded in rows:
        print(
            f"| {run} | {n} | {bare:.2f} | {n / bare:.1f} | {first:.2f} | {n / first:.1f} | {bare / first:.2f} | "
            f"{again:.2f} | {re_embedded} |"
        )


if __name__ == "__main__":
    main()
