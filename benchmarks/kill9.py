"""`kill -9` a large build at several points while a server answers queries; check the index every time.

Usage: python benchmarks/kill9.py [--articles 1000] [--points 0.5,2,5,10,20,40] [--clients 4]

A real `jsearch serve` serves a temporary index of the bundled corpus. For each point, `jsearch index` of
JSQuAD paragraphs (as .txt articles) starts in its own process and is killed with SIGKILL after that many
seconds, then the moment each file of the new generation appears. After each kill: the server answered every query, `current` still names a complete generation that
loads and searches, and the leftovers are listed. Finally an undisturbed run must succeed and clean up.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_latency import ROOT, bundled_index, dev_queries, start_server  # noqa: E402
from live_reindex import Log, client, shut_down, write_jsquad  # noqa: E402


def stage_of(index_dir: Path) -> str:
    """What the killed build had got to, from what it left on disk."""
    tmps = sorted((index_dir / "generations").glob(".tmp-*"), key=lambda p: p.stat().st_mtime_ns)
    if not tmps:
        return "before its generation began (loading, chunking)"
    files = {p.name for p in tmps[-1].iterdir()}
    if "manifest.json" in files:
        return "generation written, not yet switched"
    if "lexical" in files or any(n.endswith(".faiss") for n in files):
        return "writing FAISS / BM25 files"
    if files:
        return "writing SQLite"
    return "embedding (generation directory still empty)"


STAGE_FILES = ("meta.sqlite", "vectors.faiss", "lexical", "manifest.json")


def kill_when(build: subprocess.Popen, index_dir: Path, name: str, stale: set[Path]) -> bool:
    """SIGKILL the build the moment `name` exists in its unfinished generation; False if it finished first."""
    generations = index_dir / "generations"
    while build.poll() is None:
        if any(
            (tmp / name).exists() for tmp in set(generations.glob(".tmp-*")) - stale
        ):  # not earlier leftovers
            build.send_signal(signal.SIGKILL)
            build.wait()
            return True
        time.sleep(0.002)
    return False


def check(index_dir: Path, embedder, before: Path) -> tuple[bool, str]:
    """The served generation is complete: manifest, FAISS and SQLite agree and a search answers."""
    from indexer.stores import manifest
    from indexer.stores.faiss import vectors
    from indexer.stores.faiss.layout import IndexDir
    from search.engine import Engine

    current = IndexDir(index_dir).require_current()
    info = manifest.read(current)
    ok = vectors.load(current).ntotal == info.chunks and bool(
        Engine(index_dir, embedder).search("窓口キャッシュレス", k=3)["passages"]
    )
    return ok, f"{current.name}{' (unchanged)' if current == before else ' (new, complete)'}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--points", default="0.5,2,5,10,20,40")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--squad", type=Path, default=ROOT.parent / "shared" / "data" / "jsquad" / "valid-v1.3.json"
    )
    args = parser.parse_args()
    from indexer.model.base import Embedder
    from indexer.stores.faiss.layout import IndexDir

    embedder = Embedder.load()
    index_dir = bundled_index(embedder)
    scratch = index_dir.parent
    corpus = scratch / "articles"
    corpus.mkdir()
    write_jsquad(args.squad, corpus, args.articles)
    proc, base = start_server(index_dir, None)
    log, stop = Log(), threading.Event()
    threads = [
        threading.Thread(target=client, args=(base, dev_queries(), i, log, stop), daemon=True)
        for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    cmd = [
        sys.executable,
        "-c",
        "from api.cli import main; main()",
        "index",
        str(corpus),
        "--index-dir",
        str(index_dir),
        "--json",
    ]
    results = []
    try:
        for point in [float(p) for p in args.points.split(",")]:
            before = IndexDir(index_dir).require_current()
            began = time.monotonic()
            build = subprocess.Popen(
                cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(point)
            finished = build.poll() is not None
            build.send_signal(signal.SIGKILL)
            build.wait()
            stage = "finished before the kill" if finished else stage_of(index_dir)
            ok, served = check(index_dir, embedder, before)
            window = log.window(began, time.monotonic())
            results.append(
                (
                    f"kill -9 after {point:g} s",
                    stage,
                    served,
                    ok,
                    len(window),
                    sum(not good for _, _, good in window),
                )
            )
        for name in STAGE_FILES:
            before = IndexDir(index_dir).require_current()
            began = time.monotonic()
            stale = set((index_dir / "generations").glob(".tmp-*"))
            build = subprocess.Popen(
                cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            hit = kill_when(build, index_dir, name, stale)
            stage = stage_of(index_dir) if hit else "finished before the file appeared"
            ok, served = check(index_dir, embedder, before)
            window = log.window(began, time.monotonic())
            results.append(
                (
                    f"kill -9 as soon as {name} appears",
                    stage,
                    served,
                    ok,
                    len(window),
                    sum(not good for _, _, good in window),
                )
            )
        before = IndexDir(index_dir).require_current()
        began = time.monotonic()
        final = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        leftovers = list((index_dir / "generations").glob(".tmp-*"))
        ok, served = check(index_dir, embedder, before)
        window = log.window(began, time.monotonic())
        results.append(
            (
                "undisturbed run",
                f"exit {final.returncode}, leftovers after: {len(leftovers)}",
                served,
                ok and final.returncode == 0 and not leftovers,
                len(window),
                sum(not good for _, _, good in window),
            )
        )
    finally:
        shut_down(stop, threads, proc, scratch)
    print(
        f"{args.articles} articles, {args.clients} clients querying throughout, cpus={os.cpu_count()}\n"
    )
    print(
        "| point | build stage at the kill | served generation after | loadable + searchable | queries | "
        "failed |\n|---|---|---|---|---|---|"
    )
    for row in results:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
