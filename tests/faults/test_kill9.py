"""kill -9 of a writer the moment each file of its new segment or commit point appears, and of a merge: the served
commit point is always complete (old or new, never half), searchable, and the next write succeeds."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from faultkit import ROOT, cli_env, serve_in_thread, settings_for, stored_ids, town_article

from indexer.stores import manifest
from indexer.stores.faiss import check, layout, merge
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes
from search.engine import Engine

STAGES = [
    "tmp-dir",
    "meta.sqlite",
    "vectors.faiss",
    "lexical",
    "segment.json",
    "segment",
    "manifest.json",
    ".readers",
    "published",
]
COMMIT_FILES = ("manifest.json", ".readers")


def _reached(index: layout.IndexDir, stage: str, before: str, segments_before: set[str]) -> bool:
    if stage == "published":
        return any(p.name > before for p in index.generations.glob("g*"))
    if stage == "segment":
        return bool({p.name for p in index.segments.glob("s*")} - segments_before)
    tmps = list((index.generations if stage in COMMIT_FILES else index.segments).glob(".tmp-*"))
    if stage == "tmp-dir":
        return bool(tmps)
    return any((t / stage).exists() for t in tmps)


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_at_each_stage_of_a_build(tmp_path, small_index, embedder, gazetteer, stage):
    index = layout.IndexDir(small_index)
    before = index.require_current().name
    segments_before = {p.name for p in index.segments.glob("s*")}
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.txt").write_text(town_article(10 + i).text, "utf-8")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "add",
            str(folder),
            "--index-dir",
            str(small_index),
            "--json",
        ],
        env=cli_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while (
        writer.poll() is None
        and time.monotonic() < deadline
        and not _reached(index, stage, before, segments_before)
    ):
        time.sleep(0.001)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    served = index.require_current()
    assert served.name in (
        before,
        *(p.name for p in index.generations.glob("g*") if p.name > before),
    )
    assert not check.verify(served, index), (
        f"killed at {stage}: the served commit point is incomplete"
    )
    engine = Engine(small_index, embedder, gazetteer)
    assert engine.search("電子申請サービス", 3)["passages"]
    report = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(99),)), embedder, gazetteer
    )
    assert not list(index.generations.glob(".tmp-*")) and not list(index.segments.glob(".tmp-*"))
    assert report.articles >= 4
    stored = stored_ids(small_index)
    assert {town_article(i).id for i in range(3)} | {town_article(99).id} <= stored


MERGE_STAGES = [
    "tmp-dir",
    "meta.sqlite",
    "vectors.faiss",
    "lexical",
    "segment.json",
    "segment",
    "published",
]


@pytest.mark.slow
@pytest.mark.parametrize("stage", MERGE_STAGES)
def test_kill_9_during_a_merge_keeps_the_last_commit_point_served(
    small_index, embedder, gazetteer, stage
):
    for i in range(10):
        faiss_writer.apply(
            small_index, changes.Change(upsert=(town_article(20 + i),)), embedder, gazetteer
        )
    index = layout.IndexDir(small_index)
    before = index.require_current().name
    segments_before = {p.name for p in index.segments.glob("s*")}
    live = stored_ids(small_index)
    engine = Engine(small_index, embedder, gazetteer)
    with serve_in_thread(settings_for(small_index), engine) as base:
        failures, stop = [], threading.Event()

        def query() -> None:
            while not stop.is_set():
                answer = httpx.get(base + "/search", params={"q": "電子申請サービス"})
                failures.extend([answer.text] if answer.status_code != 200 else [])

        client = threading.Thread(target=query)
        client.start()
        merger = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "merge",
                "--max-segments",
                "1",
                "--index-dir",
                str(small_index),
            ],
            env=cli_env(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while (
            merger.poll() is None
            and time.monotonic() < deadline
            and not _reached(index, stage, before, segments_before)
        ):
            time.sleep(0.0005)
        merger.send_signal(signal.SIGKILL)
        merger.wait()
        time.sleep(1.0)
        stop.set()
        client.join()
    assert not failures, failures[:3]
    served = index.require_current()
    assert not check.verify(served, index), (
        f"killed at {stage}: the served commit point is incomplete"
    )
    assert stored_ids(small_index) == live
    done = merge.maybe_merge(small_index, max_segments=1)
    assert done is not None or len(manifest.read(index.require_current()).segments) == 1
    assert stored_ids(small_index) == live and not list(index.segments.glob(".tmp-*"))
