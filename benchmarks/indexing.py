"""Indexing throughput against bare SentenceTransformer.encode of the same chunks, in one run.

Usage: .venv/bin/python benchmarks/indexing.py [PATH ...] [--repeat N]

Per run: the model alone embedding the passages (passage prompt), then `jsearch index`'s write path (prepare, embed,
write a segment and a commit point) into an empty index directory, then the same articles again (unchanged: nothing
is re-embedded).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from corpus.bundled import bundled_corpus_dir
from indexer.analysis.prepare import prepare
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.write import indexing


def bare_encode(embedder: Embedder, texts: list[str]) -> float:
    """Seconds for the model alone to embed the texts (passage prompt, same batch size)."""
    began = time.perf_counter()
    embedder.encode_passages(texts)
    return time.perf_counter() - began


def full_build(embedder: Embedder, articles, index_dir: Path) -> tuple[float, int]:
    """Seconds for the product's write of the articles, and how many passages it embedded."""
    began = time.perf_counter()
    report = indexing.index_articles(index_dir, articles, [], embedder)
    return time.perf_counter() - began, report.embedded_chunks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    articles = indexing.load(args.paths or [bundled_corpus_dir()]).articles
    embedder, gazetteer = Embedder.load(), Gazetteer.load()
    info = embedder.info
    count = lambda texts: embedder.count_tokens([info.passage_prompt + t for t in texts])  # noqa: E731
    texts = [p.embed_text for a in articles for p in prepare(a, gazetteer, count, info.max_tokens)]
    embedder.encode_passages(texts[:32])  # warm-up
    rows = []
    for run in range(args.repeat):
        bare = bare_encode(embedder, texts)
        with tempfile.TemporaryDirectory() as tmp:
            first, _ = full_build(embedder, articles, Path(tmp))
            again, re_embedded = full_build(embedder, articles, Path(tmp))
        rows.append((run + 1, len(texts), bare, first, again, re_embedded))
    print(f"articles={len(articles)} passages={len(texts)} model={info.name}\n")
    print(
        "| run | passages | bare encode s | bare p/s | jsearch index s | index p/s | ratio | "
        "re-index unchanged s | re-embedded |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run, n, bare, first, again, re_embedded in rows:
        print(
            f"| {run} | {n} | {bare:.2f} | {n / bare:.1f} | {first:.2f} | {n / first:.1f} | {bare / first:.2f} | "
            f"{again:.2f} | {re_embedded} |"
        )


if __name__ == "__main__":
    main()
