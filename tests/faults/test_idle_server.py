"""A server left idle while writers publish generation after generation: never a 5xx, always the newest data.

Round 1's bug: cleanup deleted the generation the idle server still held, and the next refresh raised
FileNotFoundError from os.path.samefile, so /health and every search answered 500 until a restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from faultkit import ROOT, cli_env, jsearch_json, serve_in_thread, settings_for, town_article

from indexer.stores.faiss import layout
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes
from search.engine import Engine


def test_idle_server_serves_every_write_after_many_generations(small_index, embedder, gazetteer):
    engine = Engine(small_index, embedder, gazetteer)
    with serve_in_thread(settings_for(small_index), engine) as base:
        first = httpx.get(base + "/health").json()["generation"]
        for i in range(3, 9):  # six writes while nobody asks anything
            report = faiss_writer.apply(
                small_index, changes.Change(upsert=(town_article(i),)), embedder, gazetteer
            )
        health = httpx.get(base + "/health")
        assert health.status_code == 200, health.text
        assert health.json()["generation"] == report.generation != first
        answer = httpx.get(base + "/search", params={"q": "第8号の電子申請サービス", "k": 1}).json()
        assert answer["passages"][0]["article_id"] == town_article(8).id
        assert httpx.get(base + "/articles").json()["total"] == 9


def test_generation_pinned_by_an_idle_reader_is_kept_until_it_lets_go(
    small_index, embedder, gazetteer
):
    engine = Engine(small_index, embedder, gazetteer)
    pinned = engine.view.path
    for i in range(3, 7):
        faiss_writer.apply(
            small_index, changes.Change(upsert=(town_article(i),)), embedder, gazetteer
        )
    assert pinned.is_dir(), "cleanup deleted a generation a reader still serves"
    assert engine.refresh() and engine.view.name != pinned.name
    faiss_writer.apply(small_index, changes.Change(upsert=(town_article(7),)), embedder, gazetteer)
    assert not pinned.exists(), "a generation nobody serves any more is cleaned up"
    assert len(list(layout.IndexDir(small_index).generations.glob("g*"))) <= layout.KEEP + 1


READER = """
import sys, time
from indexer.stores.faiss.reader import load
from indexer.stores.faiss.layout import IndexDir
generation = load(IndexDir(sys.argv[1]).require_current())
print(generation.name, flush=True)
time.sleep(600)
"""


def test_a_pin_held_by_another_process_protects_it_and_dies_with_kill_9(
    small_index, embedder, gazetteer
):
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(small_index)],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    try:
        name = reader.stdout.readline().strip()
        for i in range(3, 7):
            faiss_writer.apply(
                small_index, changes.Change(upsert=(town_article(i),)), embedder, gazetteer
            )
        assert (layout.IndexDir(small_index).generations / name).is_dir()
    finally:
        os.kill(reader.pid, signal.SIGKILL)
        reader.wait()
    faiss_writer.apply(small_index, changes.Change(upsert=(town_article(7),)), embedder, gazetteer)
    assert not (layout.IndexDir(small_index).generations / name).exists()


@pytest.mark.slow
def test_nightly_cli_adds_while_the_server_idles(tmp_path, small_index, embedder, gazetteer):
    """The reported sequence: serve, stay idle, `jsearch add a.txt`, `jsearch add b.txt`, then refresh."""
    engine = Engine(small_index, embedder, gazetteer)
    with serve_in_thread(settings_for(small_index), engine) as base:
        ids = []
        for name, town in (("a.txt", "あさひ町"), ("b.txt", "みずほ村")):
            path = tmp_path / name
            path.write_text(
                f"{town}の夜間窓口\n\n{town}は夜間にも証明書を受け取れる窓口を開いた。\n", "utf-8"
            )
            ids += jsearch_json("add", str(path), "--index-dir", str(small_index))["ids"]
        for _ in range(3):
            assert httpx.get(base + "/health").status_code == 200
            time.sleep(0.05)
        answer = httpx.get(base + "/search", params={"q": "みずほ村の夜間窓口", "k": 1})
        assert answer.status_code == 200 and answer.json()["passages"][0]["article_id"] == ids[1]
        listed = {a["id"] for a in httpx.get(base + "/articles").json()["articles"]}
        assert set(ids) <= listed
