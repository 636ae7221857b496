"""Files of a served segment removed or damaged under a running server: it keeps answering from what it holds (or
refuses with a clear 503), `jsearch check` reports the damage, and the next write repairs it: a segment whose
SQLite rows are intact is rewritten from them; one whose rows are lost is replaced by the newest intact commit
point, or the write is refused with how to rebuild."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest
from faultkit import jsearch, serve_in_thread, settings_for, town_article

from indexer.stores import manifest
from indexer.stores.faiss import check, layout, metadb, vectors
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes
from search.engine import Engine

FILES = [metadb.FILE, vectors.FILE, "lexical"]


def newest_segment(index_dir):
    index = layout.IndexDir(index_dir)
    return index.segments / manifest.read(index.require_current()).segments[-1]["name"]


def _damage(path, how: str) -> None:
    targets = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for target in targets:
        if how == "remove":
            target.unlink()
        elif how == "replace":  # a new file under the old name: the server's open copy is untouched
            size = target.stat().st_size
            target.unlink()
            target.write_bytes(os.urandom(max(size, 64)))
        else:  # flip bytes in place, same size (no truncation under a memory map)
            with open(target, "r+b") as handle:
                size = handle.seek(0, 2)
                handle.seek(size // 2)
                handle.write(os.urandom(min(64, max(size - size // 2, 1))))


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("how", ["remove", "replace", "flip"])
def test_damage_is_served_around_reported_and_repaired(small_index, embedder, gazetteer, name, how):
    faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(3),)), embedder, gazetteer
    )  # an older generation
    engine = Engine(small_index, embedder, gazetteer)
    index = layout.IndexDir(small_index)
    current = index.require_current()
    with serve_in_thread(settings_for(small_index), engine) as base:
        _damage(newest_segment(small_index) / name, how)
        statuses = []
        for query in ("電子申請サービス", "ゆずりは町", "待ち時間"):
            answer = httpx.get(base + "/search", params={"q": query})
            statuses.append(answer.status_code)
            assert answer.status_code in (200, 503), answer.text
            if answer.status_code == 503:
                assert answer.json()["error"]["code"] == "index_unavailable"
        print(f"{how} {name}: /search answered {statuses}")
        assert httpx.get(base + "/health").status_code == 200

        checked = jsearch("check", "--index-dir", str(small_index))
        assert checked.returncode == 1, checked.stdout
        assert "問題があります" in checked.stdout and "damaged" in checked.stdout
        assert check.verify(current, index), "the damage is found"

        report = faiss_writer.apply(
            small_index, changes.Change(upsert=(town_article(5),)), embedder, gazetteer
        )
        assert not check.verify(index.require_current(), index)
        assert jsearch("check", "--index-dir", str(small_index)).returncode == 0
        answer = httpx.get(base + "/search", params={"q": "第5号の電子申請サービス", "k": 1})
        assert answer.status_code == 200 and answer.json()["generation"] == report.generation
        assert answer.json()["passages"][0]["article_id"] == town_article(5).id
        if report.repaired_from is None:
            assert (
                report.articles == 5
            )  # the damaged segment's own articles were rewritten: nothing lost
        else:  # its SQLite was lost: built on the newest intact commit point, as `jsearch check` said
            assert name == metadb.FILE and report.articles == 4 and "g000001" in checked.stdout


def test_a_served_generation_that_cannot_be_read_is_rebuilt_from_the_newest_intact_one(
    small_index, embedder, gazetteer
):
    faiss_writer.apply(small_index, changes.Change(upsert=(town_article(3),)), embedder, gazetteer)
    current = layout.IndexDir(small_index).require_current()
    (newest_segment(small_index) / metadb.FILE).write_bytes(b"not a database" * 100)
    report = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(4),)), embedder, gazetteer
    )
    assert report.repaired_from is not None and report.repaired_from < current.name
    engine = Engine(small_index, embedder, gazetteer)
    stored = engine.view.article_ids()
    assert town_article(4).id in stored and town_article(0).id in stored


def test_damage_with_no_intact_generation_is_refused_clearly_and_rebuild_repairs(
    tmp_path, small_index, embedder, gazetteer
):
    (newest_segment(small_index) / metadb.FILE).unlink()
    with pytest.raises(faiss_writer.IndexDamaged) as refused:
        faiss_writer.apply(
            small_index, changes.Change(upsert=(town_article(3),)), embedder, gazetteer
        )
    assert (
        "--rebuild" in refused.value.en
        and "作り直して" in refused.value.ja
        and refused.value.status == 503
    )
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "a.txt").write_text(town_article(4).text, "utf-8")
    rebuilt = jsearch("index", str(folder), "--rebuild", "--index-dir", str(small_index))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert jsearch("check", "--index-dir", str(small_index)).returncode == 0


def test_a_damaged_embedding_cache_is_set_aside_and_rebuilt(small_index, embedder, gazetteer):
    cache = layout.IndexDir(small_index).cache / "embeddings.sqlite"
    cache.write_bytes(b"garbage" * 1000)
    report = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(3),)), embedder, gazetteer
    )
    assert report.articles == 4 and report.embedded_chunks >= 1
    assert (cache.parent / "embeddings.sqlite.damaged").exists()


def test_check_on_an_intact_index_and_a_missing_one(tmp_path, small_index):
    ok = jsearch("check", "--index-dir", str(small_index), "--json")
    assert ok.returncode == 0 and '"ok": true' in ok.stdout
    missing = jsearch("check", "--index-dir", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "索引がありません" in missing.stderr
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
