"""Dense index at scale: exact (IndexFlatIP) against the approximate kinds, side by side in one run.

N vectors are made from real embeddings: sentences/lines of the bundled articles plus JSQuAD paragraphs
and their sentences, embedded with the project's model (passage prompt), each row = a real embedding
+ Gaussian noise (sigma per dimension), re-normalised. Queries are real query embeddings (query prompt)
of JSQuAD questions whose articles are held out of the base. Recall@10 is measured against exact search
on the same vectors, unfiltered and with a random ~5% `allowed` subset (FAISS IDSelector path of
indexer.stores.faiss.vectors.search). Base embeddings are cached under /tmp.

Usage: .venv/bin/python benchmarks/scale.py [--sizes 100000 1000000] [--kinds flat hnsw ivf] [--sigma 0.02]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import re
import resource
import time
from pathlib import Path

import faiss
import kit
import numpy as np

from corpus.bundled import bundled_corpus_dir
from indexer.stores.faiss import vectors

CACHE = Path("/tmp/jsearch-scale-cache")
HOLD_OUT_EVERY = (
    5  # every 5th JSQuAD article: its questions are queries, its paragraphs are not in the base
)
K = 10


# ---------------------------------------------------------------- real texts and their embeddings


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。！？!?])|\n", text) if len(s.strip()) >= 10]


def base_texts() -> list[str]:
    """Lines/sentences of the bundled articles, JSQuAD paragraphs of non-held-out articles and their sentences."""
    texts: list[str] = []
    for path in sorted(bundled_corpus_dir().glob("*.txt")):
        texts += _sentences(path.read_text(encoding="utf-8"))
    for i, article in enumerate(kit.jsquad()):
        if i % HOLD_OUT_EVERY == 0:
            continue
        for paragraph in article["paragraphs"]:
            title, _, body = paragraph["context"].partition(" [SEP] ")
            texts.append(f"{title} {body}" if body else title)
            texts += _sentences(body)
    return list(dict.fromkeys(texts))


def query_texts() -> list[str]:
    articles = kit.jsquad()
    questions = [
        qa["question"]
        for i, a in enumerate(articles)
        if i % HOLD_OUT_EVERY == 0
        for p in a["paragraphs"]
        for qa in p["qas"]
    ]
    return list(dict.fromkeys(questions))


def _embed_cached(kind: str, texts: list[str]) -> np.ndarray:
    key = hashlib.sha256(("\x00".join([kind, *texts])).encode()).hexdigest()[:16]
    path = CACHE / f"{kind}-{key}.npy"
    if path.exists():
        return np.load(path)
    from indexer.model.base import Embedder

    embedder = Embedder.load()
    began = time.perf_counter()
    matrix = (
        embedder.encode_passages(texts, batch_size=64)
        if kind == "passages"
        else embedder.encode_queries(texts)
    )
    print(
        f"# embedded {len(texts)} {kind} in {time.perf_counter() - began:.0f} s (cached to {path})",
        flush=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix


def real_embeddings() -> tuple[np.ndarray, np.ndarray]:
    return _embed_cached("passages", base_texts()), _embed_cached("queries", query_texts())


# ---------------------------------------------------------------- synthetic collection of N rows


def synthesize(
    base: np.ndarray, n: int, sigma: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """N rows: a random real embedding + N(0, sigma^2) per dimension, re-normalised; and each row's source."""
    sources = rng.integers(len(base), size=n)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        block = base[sources[start : start + 100_000]]
        block += rng.standard_normal(block.shape, dtype=np.float32) * np.float32(sigma)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out, sources


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k row numbers by inner product (numpy, blocked), best first."""
    blocks = []
    for start in range(0, len(queries), 32):
        scores = queries[start : start + 32] @ matrix.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        blocks.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(blocks)


# ---------------------------------------------------------------- measurements


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def index_mb(index: faiss.Index) -> float:
    return faiss.serialize_index(index).nbytes / 2**20


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth)])
    )


def timed_searches(
    index: faiss.Index, queries: np.ndarray, allowed: np.ndarray | None
) -> tuple[list[np.ndarray], np.ndarray]:
    """One vectors.search call per query (as the engine does); rows found and per-query milliseconds."""
    for q in queries[:5]:  # warm-up
        vectors.search(index, q, K, allowed)
    found, millis = [], []
    for q in queries:
        began = time.perf_counter()
        rows = vectors.search(index, q, K, allowed)[1]
        millis.append((time.perf_counter() - began) * 1000)
        found.append(rows)
    return found, np.asarray(millis)


def measure(
    kind: str,
    data: np.ndarray,
    queries: np.ndarray,
    allowed: np.ndarray,
    truth: np.ndarray,
    truth_filtered: np.ndarray,
) -> dict:
    gc.collect()
    before = rss_mb()
    began = time.perf_counter()
    index = vectors.build(data, kind)
    seconds = time.perf_counter() - began
    delta = rss_mb() - before
    found, millis = timed_searches(index, queries, None)
    found_f, millis_f = timed_searches(index, queries, allowed)
    row = {
        "kind": kind,
        "build_s": seconds,
        "rss_mb": delta,
        "index_mb": index_mb(index),
        "p50": kit.percentile(millis, 50),
        "p95": kit.percentile(millis, 95),
        "recall": recall(found, truth),
        "p50_f": kit.percentile(millis_f, 50),
        "recall_f": recall(found_f, truth_filtered),
        "short_f": int(sum(len(f) < K for f in found_f)),
    }
    del index
    gc.collect()
    return row


def structure(sources: np.ndarray, truth: np.ndarray) -> float:
    """Mean number of distinct real embeddings behind a query's exact top-10 (1 = trivial clusters)."""
    return float(np.mean([len(set(sources[t].tolist())) for t in truth]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=["flat", "hnsw", "ivf"],
        help="index kinds to measure (flat is the exact reference)",
    )
    parser.add_argument("--sigma", type=float, default=0.02, help="Gaussian noise per dimension")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--filter-fraction", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    base, queries = real_embeddings()
    queries = queries[rng.permutation(len(queries))[: args.queries]]
    began = time.perf_counter()
    print(
        f"base={len(base)} real passage embeddings, queries={len(queries)} real JSQuAD questions (held out), "
        f"dim={base.shape[1]}, sigma={args.sigma}, filter={args.filter_fraction:.0%} random rows, "
        f"faiss {faiss.__version__}, threads={args.threads}, cpu_count={os.cpu_count()}, "
        f"loadavg={os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print(
        f"engine: flat below {vectors.APPROX_FROM:,} rows, else {vectors.APPROX_KIND}; ivf: nlist="
        f"{vectors.IVF_LISTS_PER_SQRT}·sqrt(N), nprobe={vectors.IVF_NPROBE}; hnsw: M={vectors.HNSW_M}, "
        f"efConstruction={vectors.HNSW_EF_CONSTRUCTION}, efSearch={vectors.HNSW_EF_SEARCH}; filtered searches "
        f"widen nprobe/efSearch by min({vectors.FILTER_BOOST_MAX}, cbrt(N/allowed)), IDSelectorBitmap",
        flush=True,
    )
    rows = []
    for n in args.sizes:
        data, sources = synthesize(base, n, args.sigma, rng)
        allowed = np.sort(
            rng.choice(n, max(K, int(n * args.filter_fraction)), replace=False)
        ).astype(np.int64)
        truth = exact_top(data, queries, K)
        truth_filtered = allowed[exact_top(data[allowed], queries, K)]
        print(
            f"# N={n}: picks {vectors.kind_for(n)}; exact top-10 spans {structure(sources, truth):.1f} distinct "
            f"real embeddings on average (filtered: {structure(sources, truth_filtered):.1f})",
            flush=True,
        )
        for kind in args.kinds:
            row = measure(kind, data, queries, allowed, truth, truth_filtered)
            row["n"], row["picked"] = n, kind == vectors.kind_for(n)
            rows.append(row)
            print(f"#   {kind}: {row}", flush=True)
        del data, sources
        gc.collect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"# total {time.perf_counter() - began:.0f} s, peak RSS {peak:.1f} GiB, "
        f"loadavg={os.getloadavg()[0]:.2f}\n",
        flush=True,
    )
    print(
        "| N | index | engine picks | build s | index MB | RSS Δ MB | p50 ms | p95 ms | recall@10 | "
        f"filtered {args.filter_fraction:.0%}: p50 ms | filtered recall@10 |"
    )
    print("|---:|---|:---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']:,} | {r['kind']} | {'✓' if r['picked'] else ''} | {r['build_s']:.1f} | "
            f"{r['index_mb']:.0f} | {r['rss_mb']:.0f} | {r['p50']:.2f} | {r['p95']:.2f} | {r['recall']:.3f} | "
            f"{r['p50_f']:.2f} | {r['recall_f']:.3f} |"
        )


if __name__ == "__main__":
    if os.environ.get("SCALE_EMBED_ONLY"):
        print([m.shape for m in real_embeddings()])
    else:
        main()
