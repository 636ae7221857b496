"""kill -9 of a writer the moment each file of its new generation appears: the served generation is always
complete (old or new, never half), searchable, and the next write succeeds."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from indexer import build, check, layout
from search.engine import Engine

from faultkit import ROOT, cli_env, town_article

STAGES = ["tmp-dir", "meta.sqlite", "vectors.faiss", "lexical", "manifest.json", ".readers", "published"]


def _reached(index: layout.IndexDir, stage: str, before: str) -> bool:
    tmps = list(index.generations.glob(".tmp-*"))
    if stage == "tmp-dir":
        return bool(tmps)
    if stage == "published":
        return any(p.name > before for p in index.generations.glob("g*"))
    return any((t / stage).exists() for t in tmps)


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_at_each_stage_of_a_build(tmp_path, small_index, embedder, gazetteer, stage):
    index = layout.IndexDir(small_index)
    before = index.require_current().name
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(40):
        (folder / f"{i:02d}.txt").write_text(town_article(10 + i).text, "utf-8")
    writer = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "add", str(folder),
                               "--index-dir", str(small_index), "--json"], env=cli_env(), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while writer.poll() is None and time.monotonic() < deadline and not _reached(index, stage, before):
        time.sleep(0.001)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    served = index.require_current()
    assert served.name in (before, *(p.name for p in index.generations.glob("g*") if p.name > before))
    assert not check.verify(served), f"killed at {stage}: the served generation is incomplete"
    engine = Engine(small_index, embedder, gazetteer)
    assert engine.search("電子申請サービス", 3)["passages"]
    report = build.apply(small_index, build.Change(upsert=(town_article(99),)), embedder, gazetteer)
    assert not list(index.generations.glob(".tmp-*")) and report.articles >= 4
    stored = {r["id"] for r in Engine(small_index, embedder, gazetteer).generation.conn.execute("SELECT id FROM articles")}
    assert {town_article(i).id for i in range(3)} | {town_article(99).id} <= stored
