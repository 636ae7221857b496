"""The model's precision follows the index: an index keeps the precision it was built with until it is rebuilt,
and a rebuild takes the default; vectors of two precisions never meet in one index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.bundled import bundled_corpus_dir
from indexer.model.base import DEFAULT_PRECISION
from indexer.stores import manifest
from indexer.stores.faiss.layout import IndexDir

ROOT = Path(__file__).resolve().parents[2]
OTHER = "int8" if DEFAULT_PRECISION == "fp32" else "fp32"


def jsearch(*args: str, precision: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JSEARCH_PRECISION"}
    env["PYTHONPATH"] = str(ROOT)
    if precision:
        env["JSEARCH_PRECISION"] = precision
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )


def built_with(root: Path) -> str:
    return manifest.read(IndexDir(root).require_current()).precision


@pytest.mark.slow
def test_an_index_keeps_its_precision_until_rebuilt(tmp_path):
    files = sorted(bundled_corpus_dir().iterdir())
    folder, later, root = tmp_path / "articles", tmp_path / "later", tmp_path / "index"
    folder.mkdir(), later.mkdir()
    for f in files[:2]:
        shutil.copy(f, folder)
    shutil.copy(files[2], later)
    done = jsearch("index", str(folder), "--index-dir", str(root), "--json", precision=OTHER)
    assert done.returncode == 0, done.stderr
    assert built_with(root) == OTHER

    # nothing configured: searches and writes load the index's own precision
    found = jsearch("search", "窓口", "--index-dir", str(root), "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["passages"]
    added = jsearch("add", str(later / files[2].name), "--index-dir", str(root), "--json")
    assert added.returncode == 0, added.stderr
    assert len(json.loads(added.stdout)["added"]) == 1 and built_with(root) == OTHER

    # the other precision named outright is refused, saying which one the index holds
    refused = jsearch("search", "窓口", "--index-dir", str(root), precision=DEFAULT_PRECISION)
    assert refused.returncode != 0 and f"JSEARCH_PRECISION={OTHER}" in refused.stderr

    # a rebuild takes the default
    again = jsearch("index", str(folder), "--index-dir", str(root), "--rebuild", "--json")
    assert again.returncode == 0, again.stderr
    assert built_with(root) == DEFAULT_PRECISION
    found = jsearch("search", "窓口", "--index-dir", str(root), "--json")
    assert found.returncode == 0, found.stderr
