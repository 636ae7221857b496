"""Building generations for real: counts, incremental re-use, refusals, and crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.loaders import load_paths
from indexer.stores import manifest
from indexer.stores.faiss import check, layout, metadb, vectors
from indexer.stores.faiss import writer as faiss_writer
from indexer.stores.manifest import IndexMismatch
from indexer.write import changes
from search.engine import Engine


def _segment(index_dir: Path) -> Path:
    """The directory of the only segment of a freshly built index."""
    index = layout.IndexDir(index_dir)
    (entry,) = manifest.read(index.require_current()).segments
    return index.segments / entry["name"]


def test_generation_holds_consistent_faiss_sqlite_and_manifest(bundled_index, bundled_articles):
    current = layout.IndexDir(bundled_index).require_current()
    info = manifest.read(current)
    conn = metadb.open_readonly(_segment(bundled_index))
    chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    assert info.articles == len(bundled_articles) == 5
    assert info.chunks == chunks == vectors.load(_segment(bundled_index)).ntotal
    assert info.model == "intfloat/multilingual-e5-small" and info.dimension == 384
    texts = {a.id: a.text for a in bundled_articles}
    for row in conn.execute("SELECT article_id, start, end, text FROM chunks"):
        assert texts[row["article_id"]][row["start"] : row["end"]] == row["text"]


def test_digest_items_name_their_municipality_as_subject(bundled_index):
    conn = metadb.open_readonly(_segment(bundled_index))
    row = conn.execute("SELECT row FROM chunks WHERE text LIKE '■宇佐市、%'").fetchone()[0]
    roles = {
        (m["name"], m["role"]) for m in conn.execute("SELECT * FROM mentions WHERE row = ?", (row,))
    }
    assert ("宇佐市", "subject") in roles and not any(name == "大分県" for name, _ in roles)


def _copy_corpus(src_articles, folder: Path) -> None:
    folder.mkdir()
    for article in src_articles:
        (folder / Path(article.path).name).write_text(article.text, "utf-8")


def test_unchanged_corpus_embeds_nothing_and_changes_are_upserted(
    tmp_path, embedder, gazetteer, bundled_articles
):
    corpus = tmp_path / "corpus"
    _copy_corpus(bundled_articles, corpus)
    first = faiss_writer.apply(
        tmp_path / "ix", changes.Change(upsert=load_paths([corpus]).articles), embedder, gazetteer
    )
    again = faiss_writer.apply(
        tmp_path / "ix", changes.Change(upsert=load_paths([corpus]).articles), embedder, gazetteer
    )
    assert first.embedded_chunks == first.chunks > 0 and again.embedded_chunks == 0
    assert again.unchanged == 5 and not again.added and not again.updated
    victim = sorted(corpus.iterdir())[0]
    victim.write_text(
        victim.read_text("utf-8")
        + "\n\n■三鷹市、窓口にセミセルフレジを導入\n東京都三鷹市は新しいレジを導入した。\n",
        "utf-8",
    )
    (corpus / sorted(p.name for p in corpus.iterdir())[1]).unlink()
    third = faiss_writer.apply(
        tmp_path / "ix",
        changes.Change(upsert=load_paths([corpus]).articles, prune_missing=True),
        embedder,
        gazetteer,
    )
    assert len(third.updated) == 1 and len(third.removed) == 1 and third.articles == 4
    assert 1 <= third.embedded_chunks <= 2


def test_index_built_with_another_model_is_refused(tmp_path, bundled_index, embedder):
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    current = layout.IndexDir(copy).require_current()
    data = json.loads((current / "manifest.json").read_text())
    (current / "manifest.json").write_text(json.dumps({**data, "model": "cl-nagoya/ruri-v3-30m"}))
    with pytest.raises(IndexMismatch) as info:
        Engine(copy, embedder)
    assert "ruri" in info.value.ja and "rebuild" in info.value.en
    with pytest.raises(IndexMismatch):
        faiss_writer.apply(copy, changes.Change(upsert=()), embedder)
    (current / "manifest.json").write_text(json.dumps({**data, "format_version": 0}))
    with pytest.raises(IndexMismatch) as old:
        Engine(copy, embedder)
    assert "形式" in old.value.ja


def test_missing_index_says_how_to_build_one(tmp_path, embedder):
    with pytest.raises(layout.IndexMissing) as info:
        Engine(tmp_path / "nothing", embedder)
    assert "jsearch index" in info.value.ja and "jsearch index" in info.value.en


def test_empty_change_keeps_the_served_generation(tmp_path, bundled_index, embedder, gazetteer):
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    before = layout.IndexDir(copy).require_current()
    with pytest.raises(changes.NoArticles):
        faiss_writer.apply(copy, changes.Change(replace_all=True), embedder, gazetteer)
    assert layout.IndexDir(copy).require_current() == before


def test_a_second_writer_gets_a_clear_message(tmp_path, embedder):
    index = layout.IndexDir(tmp_path / "ix")
    with layout.acquire(index, 0):
        with pytest.raises(layout.WriterBusy) as info:
            faiss_writer.apply(index.root, changes.Change(upsert=()), embedder, lock_timeout=0.2)
    assert "実行中" in info.value.ja


def _big_corpus(folder: Path, articles, copies: int) -> None:
    folder.mkdir()
    for i in range(copies):
        for article in articles:
            (folder / f"{i:03d}-{Path(article.path).name}").write_text(
                f"{i}版\n{article.text}", "utf-8"
            )


@pytest.mark.slow
def test_kill_9_during_a_build_leaves_the_previous_generation_served(
    tmp_path, bundled_index, bundled_articles, embedder
):
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    index = layout.IndexDir(copy)
    before = index.require_current()
    corpus = tmp_path / "big"
    _big_corpus(corpus, bundled_articles, 6)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[4])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "index", str(corpus), "--index-dir", str(copy), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 180
    cache = index.cache / "embeddings.sqlite"
    size = cache.stat().st_size
    while (
        time.time() < deadline and cache.stat().st_size == size
    ):  # killed while embedding the new passages
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert index.require_current() == before
    assert not check.verify(before, index)
    assert Engine(copy, embedder).search("窓口キャッシュレス", k=3)["passages"]
    report = faiss_writer.apply(
        copy, changes.Change(upsert=load_paths([corpus]).articles), embedder
    )
    assert not list(index.generations.glob(".tmp-*")) and not list(index.segments.glob(".tmp-*"))
    assert (
        report.articles == 5 + 30 and report.embedded_chunks < report.chunks - 171
    )  # the killed run's work kept
