"""The Milvus store against the FAISS store, side by side in one run: quality parity, lexical variants, latency of
GET /search, and write visibility.

Usage: .venv/bin/python benchmarks/milvus_store.py [--squad ../shared/data/jsquad/valid-v1.3.json]
                            [--dev ../shared/eval/dev_queries.json] [--repeat 5] [--out FILE.md]

1. Parity: `jsearch eval --store S --json` (each run its own process) on the JSQuAD validation file (every
   paragraph an article, 4,442 questions; modes --squad-modes) and on the dev queries (the bundled corpus indexed
   into each store; hybrid, dense, lexical), for the FAISS store and for Milvus Lite; every metric per store, the
   difference, and for the dev queries whether the first and first five municipalities are the same per query.
2. Lexical variants on JSQuAD valid (Milvus Lite has no Japanese analyzer): (a) the store's own — BM25 weights
   computed by the project from its tokens with global statistics, sent as sparse vectors; (b) the project's
   tokens joined by spaces in a VARCHAR analysed by `standard` with Milvus's BM25 function. Lexical-only R@1 and
   nDCG@10 of each over the same chunks.
3. GET /search latency on each store: a real uvicorn server on loopback per store (bundled corpus), the dev
   queries sent one at a time --repeat times after one warm-up pass; p50/p95 in ms.
4. Write visibility on each store: POST /articles of a new article, then GET /search for its marker until it
   answers; DELETE, then until it is gone (ms from the write's start).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import kit
import numpy as np

from api.settings import Settings
from corpus.bundled import bundled_corpus_dir
from indexer.analysis import lexical
from indexer.model.base import Embedder, default_cache_dir
from indexer.places.gazetteer import Gazetteer
from indexer.stores.spec import StoreSpec, parse
from indexer.write import changes, indexing, pipeline
from search import evaluation, metrics
from search.engine import Engine

MODES = ["hybrid", "dense", "lexical"]


def jsearch(*args: str, index_dir: Path) -> dict:
    """One `jsearch … --json` run in its own process (a Milvus Lite directory admits one process at a time)."""
    return kit.jsearch(*args, "--index-dir", str(index_dir))


def parity(squad: Path, dev: Path, work: Path, squad_modes: list[str]) -> dict:
    """`jsearch eval` on both files for both stores, each run in its own process; {file: {store: result}}."""
    out: dict = {}
    for name in ("faiss", "milvus"):
        store = "faiss" if name == "faiss" else f"milvus:{work / 'parity.db'}"
        began = time.perf_counter()
        result = jsearch(
            "eval",
            str(squad),
            *[f"--mode={m}" for m in squad_modes],
            "--store",
            store,
            index_dir=work / f"unused-{name}",
        )
        out.setdefault("squad", {})[name] = {
            **result,
            "seconds": round(time.perf_counter() - began, 1),
        }
        print(name, "squad", {m: r["summary"] for m, r in result["modes"].items()}, flush=True)
        jsearch(
            "index", str(bundled_corpus_dir()), "--store", store, index_dir=work / f"dev-{name}"
        )
        began = time.perf_counter()
        result = jsearch(
            "eval",
            str(dev),
            *[f"--mode={m}" for m in MODES],
            "--store",
            store,
            index_dir=work / f"dev-{name}",
        )
        out.setdefault("dev", {})[name] = {
            **result,
            "seconds": round(time.perf_counter() - began, 1),
        }
    return out


def bundled_stores(work: Path) -> dict[str, StoreSpec]:
    return {"faiss": StoreSpec(), "milvus": parse(f"milvus:{work / 'bundled.db'}")}


def build_bundled(work: Path, embedder) -> None:
    articles = tuple(indexing.load([bundled_corpus_dir()]).articles)
    for name, store in bundled_stores(work).items():
        indexing.apply(
            work / f"bundled-{name}",
            changes.Change(upsert=articles, sources=(str(bundled_corpus_dir()),)),
            embedder,
            store,
        )


def dev_agreement(dev: dict) -> dict:
    """How many dev queries have the same first municipality (and same five) in both stores, per mode."""
    out = {}
    for mode in MODES:
        a = dev["faiss"]["modes"][mode]["per_query"]
        b = dev["milvus"]["modes"][mode]["per_query"]
        out[mode] = {
            "queries": len(a),
            "same_top1": sum(x["top"][:1] == y["top"][:1] for x, y in zip(a, b)),
            "same_top5": sum(x["top"] == y["top"] for x, y in zip(a, b)),
        }
    return out


def lexical_variants(squad: Path, embedder, work: Path) -> dict:
    """Lexical-only quality of the store's sparse BM25 and of Milvus's BM25 function over the project's tokens."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    evalset = evaluation.read_eval_file(squad)
    items, _ = pipeline.prepare_all(
        evalset.articles, embedder, Gazetteer.load(), default_cache_dir() / "eval-embeddings"
    )
    client = MilvusClient(str(work / "fn.db"))
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("article_id", DataType.VARCHAR, max_length=64)
    schema.add_field(
        "tokens",
        DataType.VARCHAR,
        max_length=65535,
        enable_analyzer=True,
        analyzer_params={"type": "standard"},
    )
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["tokens"],
            output_field_names=["bm25"],
        )
    )
    params = client.prepare_index_params()
    params.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection("fn", schema=schema, index_params=params)
    rows, row = [], 0
    for item in items:
        for counts in item.counts:
            text = " ".join(t for t, n in counts.items() for _ in range(n))
            rows.append({"row": row, "article_id": item.article.id, "tokens": text[:20000]})
            row += 1
    for i in range(0, len(rows), 512):
        client.insert("fn", rows[i : i + 512])
    client.flush("fn")  # unsealed rows are searched far slower in Milvus Lite
    client.load_collection("fn")
    began, scores = time.perf_counter(), []
    for query in evalset.queries:
        hits = client.search(
            "fn",
            data=[" ".join(lexical.tokenize(query.text))],
            anns_field="bm25",
            limit=50,
            output_fields=["article_id"],
            search_params={"metric_type": "BM25"},
        )[0]
        ranked = metrics.dedupe([h["entity"]["article_id"] for h in hits])
        scores.append(
            (
                metrics.recall_at(ranked, query.relevant, 1),
                metrics.ndcg_at(ranked, query.relevant, 10),
            )
        )
    took = (time.perf_counter() - began) / len(evalset.queries) * 1000
    return {
        "rows": row,
        "R@1": round(statistics.mean(s[0] for s in scores), 4),
        "nDCG@10": round(statistics.mean(s[1] for s in scores), 4),
        "ms_per_query": round(took, 1),
    }


def latency_and_visibility(work: Path, embedder, dev: Path, repeat: int) -> dict:
    queries = [q.text for q in evaluation.read_eval_file(dev).queries]
    out = {}
    for name, store in bundled_stores(work).items():
        settings = Settings(
            index_dir=work / f"bundled-{name}",
            store=store.describe() if store.is_milvus else "faiss",
            api_key="bench",
            refresh_seconds=0.2,
            merge=False,
        )
        engine = Engine(settings.index_dir, embedder, store=store)
        with (
            kit.serve_in_thread(settings, engine) as base,
            httpx.Client(base_url=base, timeout=60) as http,
        ):
            for q in queries:
                http.get("/search", params={"q": q})
            times = []
            for _ in range(repeat):
                for q in queries:
                    began = time.perf_counter()
                    assert http.get("/search", params={"q": q}).status_code == 200
                    times.append((time.perf_counter() - began) * 1000)
            out[name] = {
                "requests": len(times),
                "p50": round(kit.percentile(times, 50), 1),
                "p95": round(kit.percentile(times, 95), 1),
                **visibility(http),
            }
    return out


def visibility(http: httpx.Client) -> dict:
    marker = f"検証用記号{int(time.time() * 1000) % 100000:05d}"
    body = {
        "title": f"{marker}の記事",
        "body": f"豊後高田市は{marker}を窓口で始めました。",
        "source": "bench",
    }
    auth = {"Authorization": "Bearer bench"}
    began = time.perf_counter()
    answer = http.post("/articles", json=body, headers=auth)
    assert answer.status_code in (200, 201), answer.text
    article = answer.json()["id"]
    found = _until(http, marker, True, began)
    began = time.perf_counter()
    assert http.delete(f"/articles/{article}", headers=auth).status_code == 200
    gone = _until(http, marker, False, began)
    return {"add_visible_ms": found, "delete_gone_ms": gone}


def _until(http: httpx.Client, marker: str, wanted: bool, began: float) -> float | None:
    while time.perf_counter() - began < 30:
        passages = http.get("/search", params={"q": marker, "mode": "lexical", "k": 3}).json()[
            "passages"
        ]
        if any(marker in p["text"] for p in passages) == wanted:
            return round((time.perf_counter() - began) * 1000, 1)
    return None


def report(results: dict, lexical_fn: dict, served: dict) -> str:
    return "\n\n".join(
        part
        for part in (
            parity_table(results) if results else "",
            lexical_table(results, lexical_fn) if lexical_fn and results else "",
            served_table(served) if served else "",
        )
        if part
    )


def parity_table(results: dict) -> str:
    lines = [
        "## Parity (same run, same embeddings)",
        "",
        "| file | mode | store | R@1 | R@5 | MRR@10 | nDCG@10 | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for file, stores in results.items():
        for mode in stores["faiss"]["modes"]:
            for name, result in stores.items():
                s = result["modes"][mode]["summary"]
                lines.append(
                    f"| {file} | {mode} | {name} | {s['R@1']:.4f} | {s['R@5']:.4f} | {s['MRR@10']:.4f} | "
                    f"{s['nDCG@10']:.4f} | {result['seconds']} |"
                )
            d = (
                stores["milvus"]["modes"][mode]["summary"]["nDCG@10"]
                - stores["faiss"]["modes"][mode]["summary"]["nDCG@10"]
            )
            lines.append(f"| {file} | {mode} | milvus − faiss | | | | {d:+.4f} | |")
    agree = dev_agreement(results["dev"])
    lines += [
        "",
        "Dev queries, same first municipality in both stores: "
        + ", ".join(
            f"{m} {a['same_top1']}/{a['queries']} (same top 5: {a['same_top5']})"
            for m, a in agree.items()
        ),
    ]
    return "\n".join(lines)


def lexical_table(results: dict, lexical_fn: dict) -> str:
    lines = [
        "## Lexical side on Milvus (JSQuAD valid, lexical only)",
        "",
        "| variant | R@1 | nDCG@10 | ms/query |",
        "|---|---|---|---|",
    ]
    own = results["squad"]["milvus"]["modes"]["lexical"]["summary"]
    lines.append(
        f"| project BM25 as sparse vectors (the store's) | {own['R@1']:.4f} | {own['nDCG@10']:.4f} | |"
    )
    lines.append(
        f"| tokens joined + `standard` analyzer + Milvus BM25 function | {lexical_fn['R@1']:.4f} | "
        f"{lexical_fn['nDCG@10']:.4f} | {lexical_fn['ms_per_query']} |"
    )
    return "\n".join(lines)


def served_table(served: dict) -> str:
    lines = [
        "## GET /search and write visibility (bundled corpus, one client, quiet machine)",
        "",
        "| store | requests | p50 ms | p95 ms | POST → searchable ms | DELETE → gone ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in served.items():
        lines.append(
            f"| {name} | {s['requests']} | {s['p50']} | {s['p95']} | {s['add_visible_ms']} | "
            f"{s['delete_gone_ms']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=kit.JSQUAD)
    parser.add_argument("--dev", type=Path, default=kit.DEV_QUERIES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--parts", default="latency,parity,lexical", help="which parts to run (comma-separated)"
    )
    parser.add_argument(
        "--squad-modes",
        default="hybrid,lexical",
        help="modes run on JSQuAD (dense is exact "
        "FLAT search in both stores; add it for the full table)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    embedder = Embedder.load()
    np.random.seed(0)
    with tempfile.TemporaryDirectory(prefix="jsearch-milvus-bench-") as tmp:
        work = Path(tmp)
        if "latency" in parts:
            build_bundled(work, embedder)
        served = (
            latency_and_visibility(work, embedder, args.dev, args.repeat)
            if "latency" in parts
            else {}
        )
        print(served, flush=True)
        results = (
            parity(args.squad, args.dev, work, args.squad_modes.split(","))
            if "parity" in parts
            else {}
        )
        lexical_fn = lexical_variants(args.squad, embedder, work) if "lexical" in parts else {}
    text = report(results, lexical_fn, served)
    print(text)
    if args.out:
        args.out.write_text(
            f"# Milvus store vs FAISS store\n\n`{' '.join(sys.argv)}`, "
            f"{time.strftime('%Y-%m-%d')}, 2 cores, no GPU, Milvus Lite (in-process).\n\n{text}\n",
            "utf-8",
        )


if __name__ == "__main__":
    main()
