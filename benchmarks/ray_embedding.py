"""Bulk embedding on Ray against the single process, side by side in one run, each through the build's own
cache-writing loop into a fresh temporary embedding cache; the per-worker rate and a (linear) projection for N
workers; cosine between the two paths' vectors.

Usage: .venv/bin/python benchmarks/ray_embedding.py [--sample N] [--batch B] [--repeat R] [--project 4,8,16]
                                                   [--note TEXT] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import kit
import numpy as np

from indexer.model.base import Embedder
from indexer.write import pipeline
from indexer.write import ray_pipeline as ray_embed
from indexer.write.embedcache import EmbeddingCache


@dataclass(frozen=True)
class Run:
    """One configuration's pass over the passages."""

    name: str
    seconds: float
    first_block: float  # seconds to the first block saved: on Ray, the actors' start and model load
    first_size: int  # passages in that block
    matrix: np.ndarray
    load: float  # 1-minute load average at the start (other work on the machine slows every path)

    @property
    def rate(self) -> float:
        return len(self.matrix) / self.seconds

    @property
    def steady(self) -> float:
        """Passages a second after the first block: the rate once the workers are up."""
        after = self.seconds - self.first_block
        return (len(self.matrix) - self.first_size) / after if after > 0 else float("nan")


def paragraphs(sample: int | None) -> list[str]:
    """JSQuAD validation paragraphs as the product embeds a passage: title, newline, body."""
    texts = []
    for article in kit.jsquad():
        for paragraph in article["paragraphs"]:
            title, _, body = paragraph["context"].partition(" [SEP] ")
            texts.append(f"{title}\n{body}" if body else title)
    texts = list(dict.fromkeys(texts))
    return random.Random(0).sample(texts, sample) if sample and sample < len(texts) else texts


def measure(name: str, texts: list[str], embedder: Embedder, path: pipeline.Pipeline) -> Run:
    """Embed every text through `pipeline.embed_passages` on `path` (the single process or Ray) into an empty
    cache, timing the first block too."""
    passages = [SimpleNamespace(embed_text=t) for t in texts]
    keys = pipeline.passage_keys(passages, embedder)
    first: dict = {}

    class Timed:
        def prepare(self, *args):  # not used here
            raise NotImplementedError

        def encode(self, pairs, model):
            for block in path.encode(pairs, model):
                first.setdefault("at", time.perf_counter() - began)
                first.setdefault("n", len(block[0]))
                yield block

    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp) / "embeddings.sqlite")
        load = os.getloadavg()[0]
        began = time.perf_counter()
        matrix, embedded = pipeline.embed_passages(passages, keys, embedder, cache, False, Timed())
        seconds = time.perf_counter() - began
        cache.close()
    assert embedded == len(texts)
    print(f"  {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return Run(name, seconds, first["at"], first["n"], matrix, load)


def table(runs: list[Run], base: Run) -> list[str]:
    rows = [
        "| path | passages | seconds | passages/s | to first block s | steady passages/s | vs single process "
        "| cosine to single process, min / max | load avg at start |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        cos = np.einsum("ij,ij->i", run.matrix, base.matrix)
        rows.append(
            f"| {run.name} | {len(run.matrix)} | {run.seconds:.1f} | {run.rate:.1f} | {run.first_block:.1f} | "
            f"{run.steady:.1f} | {run.rate / base.rate:.2f}× | {cos.min():.6f} / {cos.max():.6f} | "
            f"{run.load:.2f} |"
        )
    return rows


RAY_LAYOUTS = ((1, 1), (1, 2), (2, 1))  # (workers, threads each)


def one_round(
    texts: list[str], embedder: Embedder, single: Embedder, batch: int
) -> tuple[list[Run], float]:
    """Every path once: the single process first (no Ray running), then a fresh local Ray; returns its start time."""
    runs = [
        measure("single process, 2 threads (pipeline.LOCAL)", texts, embedder, pipeline.LOCAL),
        measure("single process, 1 thread", texts, single, pipeline.LOCAL),
    ]
    began = time.perf_counter()
    cluster = ray_embed.connect(ray_embed.LOCAL)
    ray_start = time.perf_counter() - began
    print(f"  ray started in {ray_start:.1f} s", file=sys.stderr)
    for workers, threads in RAY_LAYOUTS:
        on_ray = ray_embed.RayPipeline(
            cluster, ray_embed.Layout(workers, threads, float(threads)), batch
        )
        runs.append(
            measure(
                f"Ray local, {workers} worker{'s' * (workers > 1)} × {threads} thread"
                f"{'s' * (threads > 1)}",
                texts,
                embedder,
                on_ray,
            )
        )
    ray_embed.disconnect(cluster)
    return runs, ray_start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sample", type=int, default=None, help="paragraphs to embed (default: all 1,145)"
    )
    parser.add_argument("--batch", type=int, default=ray_embed.DEFAULT_BATCH)
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds over every path; each row keeps its fastest"
    )
    parser.add_argument("--project", default="4,8,16,32")
    parser.add_argument(
        "--note", default="", help="a sentence added to the report (e.g. what else was running)"
    )
    parser.add_argument("--out", type=Path, default=kit.RESULTS / "ray_embedding.md")
    args = parser.parse_args()
    texts = paragraphs(args.sample)
    embedder, single = Embedder.load(), Embedder.load(threads=1)
    embedder.encode_passages(texts[:16]), single.encode_passages(texts[:16])  # warm-up
    best: dict[str, Run] = {}
    starts = []
    for round_ in range(args.repeat):
        print(f"round {round_ + 1} …", file=sys.stderr)
        runs, ray_start = one_round(texts, embedder, single, args.batch)
        starts.append(ray_start)
        for run in runs:
            if run.name not in best or run.seconds < best[run.name].seconds:
                best[run.name] = run
    report = render(list(best.values()), starts, args, texts)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n", "utf-8")


def render(runs: list[Run], starts: list[float], args, texts: list[str]) -> str:
    base, one, two = runs[0], runs[2], runs[4]
    per_worker = one.steady
    shared = two.steady / 2
    projection = " · ".join(
        f"{n} workers ≈ {n * per_worker:.0f}/s" for n in map(int, args.project.split(","))
    )
    command = " ".join(["python benchmarks/ray_embedding.py", *sys.argv[1:]])
    lines = [
        f"# Ray bulk embedding vs single process — {date.today().isoformat()}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, no GPU; Python {platform.python_version()}, "
        f"ray {__import__('ray').__version__}. Command: `{command}`",
        "",
        f"Passages: {len(texts)} JSQuAD v1.3 validation paragraphs (title + newline + body, as the product embeds "
        f"a passage), model intfloat/multilingual-e5-small on ONNX Runtime fp32, Ray batch {args.batch}. Each "
        "row runs `pipeline.embed_passages` (the build's own loop: blocks saved to the SQLite embedding cache as they "
        "come) into a fresh temporary cache. Ray rows include the actors' start and model load (see “to first "
        "block”; the single process writes its first block after 256 passages, so its column is not comparable), "
        f"not the start of Ray itself: **{' s, '.join(f'{s:.1f}' for s in starts)} s** (once per round). "
        f"Best of {args.repeat} rounds per row; each round runs the single process first with no Ray running, "
        "then starts a fresh local Ray. Other work on this machine shows in the load column.",
        "",
        *table(runs, base),
        "",
        f"Per-worker rate (1 worker × 1 thread, steady): **{per_worker:.1f} passages/s**; with 2 workers sharing "
        f"this machine's 2 cores, {shared:.1f}/s each.",
        "",
        f"Projection, assuming linear scaling with one 1-CPU worker per core and the driver keeping up (not "
        f"measured): {projection}.",
        "",
        *([args.note, ""] if args.note else []),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
