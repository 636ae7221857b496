"""`kill -9` a large build at several points while a server answers queries; check the index every time.

Usage: .venv/bin/python benchmarks/kill9.py [--articles 1000] [--points 0.5,2,5,10,20,40] [--clients 4]

A real `jsearch serve` serves a temporary index of the bundled corpus while --clients query it without pause.
Each build is `jsearch index BUNDLED JSQUAD --rebuild` in its own process: the bundled corpus and --articles
JSQuAD paragraphs (as .txt articles) written as one new segment (`segments/sNNNNNN-…`, built in
`segments/.tmp-*`) and a new commit point (`generations/gNNNNNN/manifest.json`, built in `generations/.tmp-*`)
that the `current` link is switched to. Embeddings go to the index's cache as they are made, so the first builds
embed and the later ones mostly write. Builds are killed with SIGKILL after each of --points seconds, then the
moment each file of the new segment or commit point appears. After each kill: `jsearch check --json` passes on
the served commit point (every segment it lists present, intact, its stores agreeing), which is the old one or a
complete new one, it answers a search, and the table gives the queries sent meanwhile and how many failed.
Finally an undisturbed build must succeed and leave no unfinished directory behind.

tests/faults/test_kill9.py asserts the same safety on a small index (40 articles, one kill per file stage, the
next write after it, kills during a merge); this script adds the scale (a build that runs for minutes), kills at
arbitrary moments, and the failed-query count of a separate server process under load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import kit

SEGMENT_FILES = ("meta.sqlite", "vectors.faiss", "lexical", "segment.json")  # in segments/.tmp-*
COMMIT_FILES = ("manifest.json", ".readers")  # in generations/.tmp-*
STAGES = (*SEGMENT_FILES, "segment", *COMMIT_FILES, "published")  # as in tests/faults/test_kill9.py


class Disk:
    """What one build leaves in the index directory, told apart from what was there before it started."""

    def __init__(self, index_dir: Path) -> None:
        self.root = index_dir
        self.segments, self.generations = index_dir / "segments", index_dir / "generations"
        self.before = self._names()

    def _names(self) -> set[str]:
        return {f"segments/{p.name}" for p in _children(self.segments)} | {
            f"generations/{p.name}" for p in _children(self.generations)
        }

    def new(self, parent: Path, prefix: str) -> list[Path]:
        """Directories under `parent` whose names start with `prefix` that the build made."""
        return [
            p
            for p in _children(parent)
            if p.name.startswith(prefix) and f"{parent.name}/{p.name}" not in self.before
        ]

    def reached(self, stage: str) -> bool:
        """Whether the build has got as far as `stage` (a file name, "segment" or "published")."""
        if stage == "published":
            return bool(self.new(self.generations, "g"))
        if stage == "segment":
            return bool(self.new(self.segments, "s"))
        parent = self.segments if stage in SEGMENT_FILES else self.generations
        return any((tmp / stage).exists() for tmp in self.new(parent, ".tmp-"))

    def stage(self) -> str:
        """How far the killed build had got, from what it left on disk."""
        if self.new(self.generations, "g"):
            return "commit point published"
        commits = self.new(self.generations, ".tmp-")
        if commits:
            files = {p.name for p in _children(commits[-1])}
            return "commit point written, not yet switched" if files else "commit point begun"
        if self.new(self.segments, "s"):
            return "segment finished, commit point not begun"
        building = self.new(self.segments, ".tmp-")
        if not building:
            return "before its segment began (loading, chunking, embedding)"
        files = {p.name for p in _children(building[-1])}
        if "segment.json" in files:
            return "segment written, not yet renamed"
        if files & {"vectors.faiss", "lexical"}:
            return "writing the segment's FAISS / BM25 files"
        if "meta.sqlite" in files:
            return "writing the segment's SQLite"
        return "segment directory created (embedding done)"

    def leftovers(self) -> list[Path]:
        """Unfinished directories in segments/ and generations/, whoever left them."""
        return [
            p
            for parent in (self.segments, self.generations)
            for p in _children(parent)
            if p.name.startswith(".tmp-")
        ]


def _children(parent: Path) -> list[Path]:
    """Entries of a directory, oldest first; entries that a running writer renames or removes meanwhile are
    left out."""
    found = []
    try:
        for path in parent.iterdir():
            try:
                found.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        return []
    return [path for _, path in sorted(found)]


def served(index_dir: Path) -> str:
    """The commit point `current` names."""
    return os.readlink(index_dir / "current").rsplit("/", 1)[-1]


def verify(index_dir: Path, engine_factory, before: str) -> tuple[bool, str]:
    """`jsearch check` passes on the served commit point, which is the old one or newer, and it answers a search."""
    done = subprocess.run(
        [*kit.JSEARCH, "check", "--json", "--index-dir", str(index_dir)],
        cwd=kit.ROOT,
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return False, f"jsearch check failed: {done.stderr[-300:]}"
    name = report["generation"]
    searchable = bool(engine_factory().search("窓口キャッシュレス", 3)["passages"])
    ok = report["ok"] and name >= before and searchable
    note = "unchanged" if name == before else "new, complete" if report["ok"] else "new"
    problems = f"; problems: {report['problems'][:2]}" if report["problems"] else ""
    return ok, f"{name} ({note}){problems}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--points", default="0.5,2,5,10,20,40", help="seconds after the start")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--squad", type=Path, default=kit.JSQUAD)
    args = parser.parse_args()
    from corpus.bundled import bundled_corpus_dir
    from indexer.model.base import Embedder
    from search.engine import Engine

    embedder = Embedder.load()
    index_dir = kit.bundled_index(embedder)
    scratch = index_dir.parent
    corpus = scratch / "articles"
    kit.write_jsquad_articles(corpus, args.articles, args.squad)
    build_cmd = [
        *kit.JSEARCH,
        "index",
        str(bundled_corpus_dir()),
        str(corpus),
        "--rebuild",
        "--index-dir",
        str(index_dir),
        "--json",
    ]
    engine = lambda: Engine(index_dir, embedder)  # noqa: E731 - a fresh reader after each kill
    server = kit.start_server(index_dir)
    clients = kit.Clients(server.base, kit.dev_queries(), args.clients).start()
    results = []

    def build() -> subprocess.Popen:
        return subprocess.Popen(
            build_cmd, cwd=kit.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def record(label: str, stage: str, before: str, began: float, extra_ok: bool = True) -> None:
        ok, after = verify(index_dir, engine, before)
        window = clients.load.window(began, time.monotonic())
        failed = sum(not good for _, _, good in window)
        results.append((label, stage, after, ok and extra_ok, len(window), failed))
        print(f"# {label}: {stage}; served {after}; ok={ok and extra_ok}", flush=True)

    try:
        for point in [float(p) for p in args.points.split(",")]:
            before, disk, began = served(index_dir), Disk(index_dir), time.monotonic()
            writer = build()
            time.sleep(point)
            finished = writer.poll() is not None
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            stage = "finished before the kill" if finished else disk.stage()
            record(f"kill -9 after {point:g} s", stage, before, began)
        for name in STAGES:
            before, disk, began = served(index_dir), Disk(index_dir), time.monotonic()
            writer = build()
            while writer.poll() is None and not disk.reached(name):
                time.sleep(0.001)
            hit = writer.poll() is None
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            stage = disk.stage() if hit else "finished before it was reached"
            record(f"kill -9 as soon as {name} appears", stage, before, began)
        before, began = served(index_dir), time.monotonic()
        final = subprocess.run(build_cmd, cwd=kit.ROOT, capture_output=True, text=True)
        leftovers = Disk(index_dir).leftovers()
        record(
            "undisturbed build",
            f"exit {final.returncode}, unfinished directories after: {len(leftovers)}",
            before,
            began,
            final.returncode == 0 and not leftovers,
        )
    finally:
        clients.stop()
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\n{args.articles} JSQuAD articles + the bundled corpus, {args.clients} clients querying "
        f"throughout, cpus={os.cpu_count()}\n"
    )
    print(
        "| point | build stage at the kill | served commit point after | check + search ok | queries | "
        "failed |\n|---|---|---|---|---|---|"
    )
    for row in results:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
