"""CLI faults found by reading: eval must not replace the index it is pointed at; watch must not die on links."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from corpus.article import Article, article_id
from indexer.stores.faiss import layout
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes, watch
from search.engine import Engine


@pytest.mark.slow
def test_squad_eval_with_an_index_dir_leaves_that_index_alone(tmp_path, embedder, gazetteer):
    index = tmp_path / "index"
    mine = Article(
        article_id("mine"), "わかば町の記事", "わかば町は転入届をオンラインで受け付けた。"
    )
    faiss_writer.apply(index, changes.Change(upsert=(mine,)), embedder, gazetteer)
    before = layout.IndexDir(index).require_current().name
    squad = {
        "data": [
            {
                "title": "富士山",
                "paragraphs": [
                    {
                        "context": "富士山は日本で最も高い山である。",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "日本で最も高い山は？",
                                "answers": [{"text": "富士山", "answer_start": 0}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    (tmp_path / "squad.json").write_text(json.dumps(squad, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(
        app,
        ["eval", str(tmp_path / "squad.json"), "--index-dir", str(index), "--json"],
        env={"JSEARCH_CACHE_DIR": str(tmp_path / "cache"), **_model_cache()},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["modes"]["hybrid"]["summary"]["R@1"] == 1.0
    assert layout.IndexDir(index).require_current().name == before
    stored = Engine(index, embedder, gazetteer).view.article_ids()
    assert stored == {mine.id}


def _model_cache() -> dict[str, str]:
    """Keep the converted model where the session found it (the eval cache goes to the test's own folder)."""
    from indexer.model.base import bundled_model_dir

    return {"JSEARCH_MODEL": str(bundled_model_dir())}


def test_watch_reports_links_outside_the_folder_and_unreadable_paths(tmp_path):
    root, outside = tmp_path / "watched", tmp_path / "secret"
    root.mkdir(), outside.mkdir()
    (outside / "passwd.txt").write_text("秘密の文書\n\n外のファイル。\n", "utf-8")
    (root / "link.txt").symlink_to(outside / "passwd.txt")
    (root / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (root / "fine.txt").write_text(
        "よつば町の記事\n\nよつば町は図書館の予約をウェブで始めた。\n", "utf-8"
    )
    too_long = root / ("長" * 200 + ".txt")
    batch = watch.to_batch(
        root,
        [
            root / "link.txt",
            root / "dangling.txt",
            root / "fine.txt",
            too_long,
            tmp_path / "elsewhere.txt",
        ],
    )
    assert [a.id for a in batch.change.upsert] == [article_id("fine.txt")]
    reported = {Path(e.path).name for e in batch.errors}
    assert {"link.txt", "dangling.txt"} <= reported
    assert all(e.ja and e.en for e in batch.errors)
    assert "外のファイル" not in "".join(a.text for a in batch.change.upsert)
    assert os.path.exists(root / "link.txt")
