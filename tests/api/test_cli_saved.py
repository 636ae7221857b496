"""`jsearch saved list|add|remove` on a copy of the bundled index, then a write through `jsearch add` announced in
the feed the server builds from the same file."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture(scope="module")
def index_copy(tmp_path_factory, bundled_index):
    root = tmp_path_factory.mktemp("cli-saved") / "index"
    shutil.copytree(bundled_index, root, symlinks=True)
    return root


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={})


def test_saved_add_list_remove(index_copy):
    empty = run("saved", "list", "--index-dir", str(index_copy), "--json")
    assert empty.exit_code == 0 and json.loads(empty.stdout) == {"saved_searches": []}
    added = run(
        "saved",
        "add",
        "窓口",
        "窓口キャッシュレスの事例",
        "--prefecture",
        "大分県",
        "--index-dir",
        str(index_copy),
        "--json",
    )
    assert added.exit_code == 0, added.output
    made = json.loads(added.stdout)
    assert len(made["id"]) >= 20 and made["filters"] == {"prefecture": "大分県"}
    listed = json.loads(run("saved", "list", "--index-dir", str(index_copy), "--json").stdout)
    assert [s["id"] for s in listed["saved_searches"]] == [made["id"]]
    assert (index_copy.parent / "index.saved.sqlite3").is_file()  # beside the index, not in it
    bad = run("saved", "add", "x", "窓口", "--prefecture", "東京", "--index-dir", str(index_copy))
    assert bad.exit_code == 2 and "東京" in bad.output
    gone = run("saved", "remove", made["id"], "--index-dir", str(index_copy))
    assert gone.exit_code == 0 and made["id"] in gone.output
    again = run("saved", "remove", made["id"], "--index-dir", str(index_copy))
    assert again.exit_code == 1 and "見つかりません" in again.output
