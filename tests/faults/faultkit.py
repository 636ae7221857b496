"""Fault-suite helpers: small real indexes, servers on loopback and CLI runs, as users run them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from servekit import serve

from api.settings import Settings
from corpus.article import Article, article_id
from indexer.stores import manifest
from indexer.stores.faiss import commit, layout
from indexer.stores.faiss import writer as faiss_writer
from indexer.write import changes

ROOT = Path(__file__).resolve().parents[2]
WRITE_KEY = "fault-key"
AUTH = {"Authorization": f"Bearer {WRITE_KEY}"}

TOWNS = [
    "ゆずりは町",
    "かみやま村",
    "つばき市",
    "ふじみ台町",
    "あおば村",
    "しらさぎ市",
    "みなと町",
    "こまち村",
]


def town_article(i: int, extra: str = "") -> Article:
    """A short, distinct article: `{town}は{topic}を始めた`; its id comes from its key."""
    town = TOWNS[i % len(TOWNS)]
    text = (
        f"{town}の取り組み{i}\n\n{town}は第{i}号の電子申請サービスを始めた。窓口の待ち時間は{i + 3}分減った。"
        f"{extra}\n"
    )
    return Article(
        article_id(f"fault/{i}"), f"{town}の取り組み{i}", text, source="テスト", path=f"fault/{i}"
    )


def stored_ids(index_dir: Path) -> set[str]:
    """Ids of the live articles of the served commit point."""
    index = layout.IndexDir(index_dir)
    return set(
        commit.lookup(index, commit.entries_of(manifest.read(index.require_current())), None)
    )


def make_index(root: Path, embedder, gazetteer, count: int = 3) -> Path:
    """A fresh index of `count` town articles."""
    faiss_writer.apply(
        root,
        changes.Change(upsert=tuple(town_article(i) for i in range(count))),
        embedder,
        gazetteer,
    )
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


serve_in_thread = (
    serve  # the real app under uvicorn on loopback, in this process (shares the loaded model)
)


def settings_for(index: Path, **extra) -> Settings:
    return Settings(
        index_dir=index, api_key=WRITE_KEY, lock_timeout=60, refresh_seconds=0.0, **extra
    )


def cli_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "JSEARCH_LOCK_TIMEOUT": "120",
    }


def jsearch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`jsearch ARGS` in a subprocess, as a user (or a nightly job) runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        cwd=ROOT,
    )


def jsearch_json(*args: str) -> dict:
    done = jsearch(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_http(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not answer /health within {seconds} s")


def article_ids(base: str) -> set[str]:
    """Every article id the server lists."""
    data = httpx.get(base + "/articles", params={"limit": 200}, timeout=30).json()
    return {a["id"] for a in data["articles"]}
