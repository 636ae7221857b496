"""The `jsearch` command line end to end: index, search, add, remove, watch, and its bad-input messages."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from corpus.article import article_id
from corpus.bundled import bundled_corpus_dir
from search.engine import Engine

ARTICLE = "RPAで住民票の処理を自動化\n\n■架空町、RPAで住民票の写しの交付処理を自動化\n北海道上士幌町は住民票の写しの交付処理にRPAを導入した。\n"


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-index")
    shutil.copytree(bundled_corpus_dir(), root / "corpus")
    return root


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env or {})


@pytest.mark.slow
def test_index_then_reindex_embeds_nothing_new(cli_index):
    first = run("index", str(cli_index / "corpus"), "--index-dir", str(cli_index / "idx"), "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["articles"] == 5 and summary["embedded_chunks"] == summary["chunks"] > 20
    again = json.loads(run("index", "--index-dir", str(cli_index / "idx"), "--json").stdout)
    assert again["embedded_chunks"] == 0 and again["unchanged"] == 5 and again["added"] == []


def test_search_json_is_the_public_answer(cli_index):
    out = run(
        "search",
        "窓口キャッシュレスの事例",
        "-k",
        "5",
        "--index-dir",
        str(cli_index / "idx"),
        "--json",
    )
    answer = json.loads(out.stdout)
    assert len(answer["passages"]) == 5 and answer["municipalities"]
    assert {"id", "article_id", "title", "text", "start", "end", "score", "municipalities"} <= set(
        answer["passages"][0]
    )
    assert "宇佐市" in [m["name"] for m in answer["municipalities"][:5]]


def test_add_then_remove_a_file(cli_index, tmp_path):
    idx = str(cli_index / "idx")
    new = tmp_path / "rpa.txt"
    new.write_text(ARTICLE, encoding="utf-8")
    added = json.loads(run("add", str(new), "--index-dir", idx, "--json").stdout)
    assert (
        added["added"] == added["ids"] and added["articles"] == 6 and added["embedded_chunks"] > 0
    )
    hits = json.loads(run("search", "住民票 RPA 自動化", "--index-dir", idx, "--json").stdout)[
        "passages"
    ]
    assert hits[0]["article_id"] == added["ids"][0]
    removed = json.loads(run("remove", added["ids"][0], "--index-dir", idx, "--json").stdout)
    assert removed["removed"] == added["ids"] and removed["articles"] == 5


def test_remove_of_an_unknown_id_changes_nothing(cli_index):
    idx = cli_index / "idx"
    before = (idx / "current").resolve()
    out = run("remove", "0123456789abcdef", "--index-dir", str(idx))
    assert out.exit_code == 1 and "索引にない記事" in out.stderr and "no article" in out.stderr
    assert (idx / "current").resolve() == before


def test_missing_index_and_bad_files_say_what_is_wrong(tmp_path):
    out = run("search", "窓口", "--index-dir", str(tmp_path / "none"))
    assert out.exit_code == 1 and "jsearch index" in out.stderr
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "sjis.txt").write_bytes("日本語".encode("shift_jis"))
    out = run("index", str(folder), "--index-dir", str(tmp_path / "idx"), "--json")
    assert out.exit_code == 0 and "UTF-8" in out.stderr and json.loads(out.stdout)["articles"] == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run("index", str(empty), "--index-dir", str(tmp_path / "idx"))
    assert out.exit_code == 1 and "索引する記事がありません" in out.stderr


def test_watch_follows_files_that_appear_and_go(tmp_path, embedder, gazetteer):
    from indexer.write import changes, watch

    folder, idx = tmp_path / "inbox", tmp_path / "idx"
    folder.mkdir()
    shutil.copy(next(bundled_corpus_dir().glob("*.txt")), folder / "seed.txt")
    run("index", str(folder), "--index-dir", str(idx))
    stop, reports = threading.Event(), []
    thread = threading.Thread(
        target=watch.run,
        args=(idx, folder, embedder, lambda r, b: reports.append(r), reports.append),
        kwargs={"stop_event": stop},
        daemon=True,
    )
    thread.start()
    time.sleep(1)
    (folder / "rpa.txt").write_text(ARTICLE, encoding="utf-8")
    new_id = article_id("rpa.txt")
    assert _wait(lambda: new_id in _ids(idx, embedder, gazetteer)), reports
    (folder / "rpa.txt").unlink()
    assert _wait(lambda: new_id not in _ids(idx, embedder, gazetteer)), reports
    stop.set()
    thread.join(10)
    assert all(isinstance(r, changes.Report) for r in reports)


def _ids(idx: Path, embedder, gazetteer) -> set[str]:
    return Engine(idx, embedder, gazetteer).view.article_ids()


def _wait(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False
