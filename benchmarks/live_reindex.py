"""Writes while 16 clients search without pause: API add, CLI add, API delete, a 1,000-article reindex.

Usage: python benchmarks/live_reindex.py [--clients 16] [--articles 1000] [--squad FILE]

A real `jsearch serve` on loopback serves a temporary index of the bundled corpus. While the clients query
it, each write runs in turn; the table gives, per phase, the queries answered, the failed ones, p50/p99
latency and the seconds from the start of the write until a probe query sees the change through the server.
The 1,000 articles are JSQuAD validation paragraphs written out as .txt files (one paragraph per article).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_latency import ROOT, bundled_index, dev_queries, pct, start_server  # noqa: E402

KEY = "bench-key-" + os.urandom(8).hex()
PROBE = "ベンチマーク用の架空自治体ミナトミライ町がドローン配送の実証実験を開始"


@dataclass
class Log:
    """Every query the clients sent: (start, seconds, ok), appended from many threads."""

    rows: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, began: float, seconds: float, ok: bool) -> None:
        with self.lock:
            self.rows.append((began, seconds, ok))

    def window(self, start: float, end: float) -> list:
        with self.lock:
            return [r for r in self.rows if start <= r[0] < end]


def client(base: str, queries: list[str], offset: int, log: Log, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        i = offset
        while not stop.is_set():
            began = time.monotonic()
            try:
                ok = http.get("/search", params={"q": queries[i % len(queries)]}).status_code == 200
            except httpx.HTTPError:
                ok = False
            log.add(began, time.monotonic() - began, ok)
            i += 1


def shut_down(
    stop: threading.Event, threads: list[threading.Thread], server: subprocess.Popen, scratch: Path
) -> None:
    """Stop the clients, then the server; remove the temporary index and corpus."""
    stop.set()
    for t in threads:
        t.join(120)
    server.terminate()
    server.wait(30)
    shutil.rmtree(scratch, ignore_errors=True)


def visible(base: str, query: str, wanted: bool, test, timeout: float = 900) -> float:
    """Poll the server until `test(answer)` equals `wanted`; returns the time it became so."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < deadline:
            answer = http.get("/search", params={"q": query, "k": 50, "mode": "lexical"}).json()
            if bool(test(answer)) == wanted:
                return time.monotonic()
            time.sleep(0.05)
    raise SystemExit(f"change not visible after {timeout} s: {query}")


def jsearch(*args: str) -> dict:
    """Run the CLI as staff would, in its own process; its --json summary."""
    cmd = [sys.executable, "-c", "from api.cli import main; main()", *args, "--json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def write_jsquad(squad: Path, folder: Path, count: int) -> str:
    """The first `count` JSQuAD paragraphs as .txt articles; returns a phrase of the last one."""
    data = json.loads(squad.read_text("utf-8"))["data"]
    paragraphs = [(d["title"], p["context"]) for d in data for p in d["paragraphs"]][:count]
    for i, (title, context) in enumerate(paragraphs):
        (folder / f"jsquad-{i:04d}.txt").write_text(f"{title}（段落 {i}）\n\n{context}\n", "utf-8")
    return f"{paragraphs[-1][0]}（段落 {count - 1}）"


def has_title(title: str):
    return lambda answer: any(p["title"] == title for p in answer["passages"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument(
        "--squad", type=Path, default=ROOT.parent / "shared" / "data" / "jsquad" / "valid-v1.3.json"
    )
    args = parser.parse_args()
    from indexer.model.base import Embedder

    index_dir = bundled_index(Embedder.load())
    scratch = index_dir.parent
    os.environ["JSEARCH_API_KEY"] = KEY
    proc, base = start_server(index_dir, None)
    log, stop = Log(), threading.Event()
    threads = [
        threading.Thread(target=client, args=(base, dev_queries(), i, log, stop), daemon=True)
        for i in range(args.clients)
    ]
    phases = []
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        for t in threads:
            t.start()
        time.sleep(10)
        phases.append(
            (
                "baseline (no writes, 10 s)",
                log.rows[0][0] if log.rows else time.monotonic(),
                time.monotonic(),
                None,
            )
        )

        began = time.monotonic()
        body = {
            "title": "API追加記事: " + PROBE,
            "body": PROBE + "。住民の利便性向上を目指す。",
            "source": "bench",
        }
        added = httpx.post(base + "/articles", json=body, headers=auth, timeout=600).json()
        seen = visible(base, PROBE, True, has_title(body["title"]))
        phases.append(("POST /articles (API add)", began, seen, seen - began))

        began = time.monotonic()
        httpx.delete(
            base + f"/articles/{added['id']}", headers=auth, timeout=600
        ).raise_for_status()
        seen = visible(base, PROBE, False, has_title(body["title"]))
        phases.append(("DELETE /articles/{id} (API)", began, seen, seen - began))

        cli_file = scratch / "cli-article.txt"
        cli_file.write_text(f"CLI追加記事: {PROBE}\n\n{PROBE}。CLI から追加した。\n", "utf-8")
        began = time.monotonic()
        jsearch("add", str(cli_file), "--index-dir", str(index_dir))
        seen = visible(base, PROBE, True, has_title(f"CLI追加記事: {PROBE}"))
        phases.append(("jsearch add (CLI, other process)", began, seen, seen - began))

        corpus = scratch / "jsquad-articles"
        corpus.mkdir()
        last_title = write_jsquad(args.squad, corpus, args.articles)
        began = time.monotonic()
        summary = jsearch("index", str(corpus), "--index-dir", str(index_dir))
        seen = visible(base, last_title, True, has_title(last_title))
        phases.append(
            (
                f"jsearch index of {args.articles} new articles ({summary['embedded_chunks']} chunks "
                "embedded)",
                began,
                seen,
                seen - began,
            )
        )

        began = time.monotonic()
        job = httpx.post(base + "/reindex", headers=auth, timeout=60).json()
        while (state := httpx.get(base + f"/jobs/{job['id']}", headers=auth).json())["status"] in (
            "queued",
            "running",
        ):
            time.sleep(0.2)
        done = time.monotonic()
        phases.append(
            (
                f"POST /reindex full ({state['status']}, {state['result']['articles']} articles)",
                began,
                done,
                done - began,
            )
        )
        time.sleep(3)
    finally:
        shut_down(stop, threads, proc, scratch)

    rows = log.rows
    print(
        f"{args.clients} clients, {len(rows)} queries in all, failed {sum(not ok for _, _, ok in rows)}, "
        f"slowest {max(s for _, s, _ in rows) * 1000:.0f} ms, cpus={os.cpu_count()}\n"
    )
    print("| phase | queries | failed | p50 ms | p99 ms | seconds until visible |")
    print("|---|---|---|---|---|---|")
    for name, start, end, seconds in phases:
        window = log.window(start, end)
        times = [s for _, s, _ in window] or [0.0]
        print(
            f"| {name} | {len(window)} | {sum(not ok for _, _, ok in window)} | {pct(times, 50):.0f} | "
            f"{pct(times, 99):.0f} | {'' if seconds is None else f'{seconds:.2f}'} |"
        )


if __name__ == "__main__":
    main()
