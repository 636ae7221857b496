"""Writers at once: the CLI, the API and `jsearch watch` on one index while searches run — every write that was
acknowledged is in the final index, no request fails with a 5xx."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from faultkit import AUTH, ROOT, cli_env, jsearch_json, serve_in_thread, settings_for

from corpus.article import article_id
from search.engine import Engine


def _write(folder, name: str, town: str) -> None:
    (folder / name).write_text(
        f"{town}の届出\n\n{town}は転入届をオンラインで受け付け、来庁の回数を減らした。\n", "utf-8"
    )


@pytest.mark.slow
def test_cli_api_and_watch_write_together_and_lose_nothing(
    tmp_path, small_index, embedder, gazetteer
):
    watched, loose = tmp_path / "watched", tmp_path / "loose"
    watched.mkdir(), loose.mkdir()
    _write(watched, "w0.txt", "ほしぞら村")
    watch = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "watch",
            str(watched),
            "--index-dir",
            str(small_index),
            "--json",
        ],
        env=cli_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = Engine(small_index, embedder, gazetteer)
    statuses: list[int] = []
    api_ids: list[str] = []
    with serve_in_thread(settings_for(small_index), engine) as base:
        stop = threading.Event()

        def searches() -> None:
            while not stop.is_set():
                statuses.append(
                    httpx.get(
                        base + "/search", params={"q": "オンラインの届出"}, timeout=60
                    ).status_code
                )
                statuses.append(httpx.get(base + "/health", timeout=60).status_code)

        def posts() -> None:
            for i in range(4):
                body = {
                    "title": f"APIの記事{i}",
                    "body": f"みどり野町は第{i}回の窓口アンケートをウェブで集めた。",
                }
                answer = httpx.post(base + "/articles", json=body, headers=AUTH, timeout=120)
                statuses.append(answer.status_code)
                if answer.status_code in (200, 201):
                    api_ids.append(answer.json()["id"])

        readers, poster = threading.Thread(target=searches), threading.Thread(target=posts)
        readers.start(), poster.start()
        time.sleep(1.0)
        for i in range(1, 4):
            _write(watched, f"w{i}.txt", f"ほしぞら村{i}")
        for i in range(2):
            _write(loose, f"c{i}.txt", f"こもれび町{i}")
        cli_ids = jsearch_json(
            "add", str(loose / "c0.txt"), str(loose / "c1.txt"), "--index-dir", str(small_index)
        )["ids"]
        poster.join(300)
        watched_ids = {article_id(f"w{i}.txt") for i in range(4)}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = {
                a["id"]
                for a in httpx.get(base + "/articles", params={"limit": 200}).json()["articles"]
            }
            if watched_ids <= listed:
                break
            time.sleep(0.5)
        stop.set()
        readers.join(60)
    watch.send_signal(signal.SIGINT)
    try:
        watch.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        watch.kill()
        watch.communicate()
    assert len(api_ids) == 4 and len(set(api_ids)) == 4
    assert set(api_ids) | set(cli_ids) | watched_ids <= listed
    assert statuses and max(statuses) < 500, sorted(set(statuses))
