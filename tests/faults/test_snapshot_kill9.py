"""kill -9 of `jsearch snapshot` and `jsearch restore` at each step (the process stops itself with SIGKILL at the
chosen point, so the step is exact): the index is as it was or fully restored, `jsearch check` passes, no
snapshot folder looks whole, and the next restore and write succeed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from faultkit import ROOT, town_article

from indexer.stores.faiss import layout, snapshot
from indexer.write import changes, indexing

# Where the killed process dies: the function, and whether it dies before or after that function runs.
RESTORE_STEPS = [
    ("shutil.copytree", "after"),  # a segment copied into its temporary folder, not yet named
    (
        "indexer.stores.faiss.layout.Building.finish",
        "after",
    ),  # the segment in place, no commit point lists it
    (
        "indexer.stores.faiss.layout.publish",
        "before",
    ),  # the new commit point written, `current` not switched
]
SNAPSHOT_STEPS = [
    ("shutil.copytree", "after"),  # half the files copied
    ("indexer.stores.faiss.snapshot._listing", "after"),  # everything copied, the list not written
]

KILLER = """
import importlib, os, signal, sys
target, when, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
module_name, _, attr = target.rpartition(".")
try:
    owner = importlib.import_module(module_name)
except ModuleNotFoundError:  # a method: module.Class.method
    module_name, _, cls = module_name.rpartition(".")
    owner = getattr(importlib.import_module(module_name), cls)
original = getattr(owner, attr)

def dying(*args, **kwargs):
    if when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(owner, attr, dying)
from api.cli import main
sys.argv = ["jsearch", *argv]
main()
"""


def _killed(target: str, when: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLER, target, when, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _check(index) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "check", "--index-dir", str(index), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "step", RESTORE_STEPS, ids=[s[0].rsplit(".", 1)[-1] for s in RESTORE_STEPS]
)
def test_kill_9_during_restore_leaves_the_index_as_it_was(tmp_path, small_index, embedder, step):
    index = layout.IndexDir(small_index)
    snapshot.take(small_index, tmp_path / "snap")
    indexing.apply(small_index, changes.Change(upsert=(town_article(90),)), embedder)
    before = index.require_current().name
    done = _killed(*step, "restore", str(tmp_path / "snap"), "--index-dir", str(small_index))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert index.require_current().name == before  # the switch never happened
    assert _check(small_index)["ok"]
    again = snapshot.restore(tmp_path / "snap", small_index)  # leftovers are cleaned, then it works
    assert index.require_current().name == again.generation != before
    indexing.apply(small_index, changes.Change(upsert=(town_article(91),)), embedder)
    assert _check(small_index)["ok"]


@pytest.mark.parametrize(
    "step", SNAPSHOT_STEPS, ids=[s[0].rsplit(".", 1)[-1] for s in SNAPSHOT_STEPS]
)
def test_kill_9_during_snapshot_leaves_no_snapshot_and_the_index_untouched(
    tmp_path, small_index, step
):
    index = layout.IndexDir(small_index)
    before = index.require_current().name
    done = _killed(*step, "snapshot", str(tmp_path / "snap"), "--index-dir", str(small_index))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert not (
        tmp_path / "snap"
    ).exists()  # only a hidden temporary folder, never one that looks whole
    assert index.require_current().name == before and _check(small_index)["ok"]
    taken = snapshot.take(small_index, tmp_path / "snap")
    assert taken.commit_point == before
    snapshot.verify(tmp_path / "snap")
