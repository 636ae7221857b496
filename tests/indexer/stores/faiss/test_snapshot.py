"""Snapshots and restore of the FAISS store, on the real model, FAISS and SQLite: consistent while writes go on,
checked whole before anything is installed, restored answers equal to the snapshot's commit point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from corpus.article import Article, article_id
from indexer.stores.faiss import layout, snapshot
from indexer.write import changes, indexing
from search.engine import Engine

ROOT = Path(__file__).resolve().parents[4]
DEV = ROOT.parent / "shared" / "eval" / "dev_queries.json"
QUERIES = [
    "窓口キャッシュレスの事例",
    "LINE公式アカウントで行政手続きができる区",
    "AIを使った議事録作成",
]


def _queries() -> list[str]:
    return (
        [q["q"] for q in json.loads(DEV.read_text("utf-8"))["queries"]] if DEV.exists() else QUERIES
    )


def _answers(engine: Engine) -> list[dict]:
    out = []
    for query in _queries():
        answer = engine.search(query, 10)
        (
            answer.pop("took_ms"),
            answer.pop("generation"),
        )  # the restored commit point has its own name
        out.append(answer)
    return out


def _town(n: int) -> Article:
    return Article(
        article_id(f"snapshot/{n}"),
        f"ゆずりは町の取り組み {n}",
        f"ゆずりは町は第{n}期の電子申請サービスを始めた。窓口の手続きがオンラインになった。",
        path=f"snapshot/{n}",
    )


@pytest.fixture
def index(tmp_path, bundled_index) -> Path:
    root = tmp_path / "index"
    shutil.copytree(bundled_index, root, symlinks=True)
    return root


def test_restored_index_answers_as_the_snapshot_commit_point(tmp_path, index, embedder, gazetteer):
    served = Engine(index, embedder, gazetteer)
    taken = snapshot.take(index, tmp_path / "snap")
    assert taken.commit_point == served.view.name and taken.articles == 5
    done = snapshot.restore(tmp_path / "snap", tmp_path / "restored")
    assert done.snapshot_of == taken.commit_point and done.previous is None
    restored = Engine(tmp_path / "restored", embedder, gazetteer)
    assert _answers(restored) == _answers(served)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "check",
            "--index-dir",
            str(tmp_path / "restored"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"], proc.stdout + proc.stderr


def test_a_snapshot_taken_while_writes_go_on_is_whole(tmp_path, index, embedder, gazetteer):
    failures: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        try:
            for n in range(12):
                indexing.apply(index, changes.Change(upsert=(_town(n),)), embedder)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            stop.set()

    def query() -> None:
        engine = Engine(index, embedder, gazetteer)
        while not stop.is_set():
            try:
                engine.refresh()
                engine.search("電子申請サービス", 5)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=query)]
    for thread in threads:
        thread.start()
    taken = [snapshot.take(index, tmp_path / f"snap{i}") for i in range(3)]
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    for i, one in enumerate(taken):
        done = snapshot.restore(tmp_path / f"snap{i}", tmp_path / f"restored{i}")
        restored = Engine(tmp_path / f"restored{i}", embedder, gazetteer)
        assert restored.view.manifest.articles == one.articles == done.articles
        assert len(restored.view.article_ids()) == one.articles


@pytest.mark.parametrize("damage", ["flip", "missing", "truncated", "extra"])
def test_a_damaged_snapshot_is_refused_whole_and_changes_nothing(tmp_path, index, damage):
    snapshot.take(index, tmp_path / "snap")
    victim = next(
        p for p in sorted((tmp_path / "snap" / "segments").rglob("*")) if p.suffix == ".faiss"
    )
    if damage == "flip":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
    elif damage == "missing":
        victim.unlink()
    elif damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:-7])
    else:
        (victim.parent / "stray.bin").write_bytes(b"x")
    before = (
        layout.IndexDir(index).current(),
        sorted(p.name for p in (index / "segments").iterdir()),
    )
    with pytest.raises(snapshot.SnapshotDamaged) as refused:
        snapshot.restore(tmp_path / "snap", index)
    assert "壊れて" in refused.value.ja and "damaged" in refused.value.en
    after = (
        layout.IndexDir(index).current(),
        sorted(p.name for p in (index / "segments").iterdir()),
    )
    assert after == before


def test_restore_into_a_served_index_is_switched_to_and_the_old_one_stays(
    tmp_path, index, embedder, gazetteer
):
    snapshot.take(index, tmp_path / "snap")
    served = Engine(index, embedder, gazetteer)
    indexing.apply(index, changes.Change(upsert=(_town(1),)), embedder)
    assert served.refresh() and len(served.view.article_ids()) == 6
    done = snapshot.restore(tmp_path / "snap", index)
    assert done.previous is not None and (index / "generations" / done.previous).is_dir()
    assert served.refresh() and served.view.name == done.generation
    assert len(served.view.article_ids()) == 5


def test_snapshot_refuses_a_destination_that_holds_something(tmp_path, index):
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "keep.txt").write_text("mine")
    with pytest.raises(snapshot.SnapshotTarget):
        snapshot.take(index, tmp_path / "snap")
    assert (tmp_path / "snap" / "keep.txt").read_text() == "mine"


def test_the_milvus_store_refuses_snapshots_with_what_to_use(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "snapshot",
            str(tmp_path / "snap"),
            "--index-dir",
            str(tmp_path / "ix"),
            "--store",
            f"milvus:{tmp_path}/m.db",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "milvus-backup" in proc.stderr, proc.stderr
    assert not (tmp_path / "snap").exists()
