"""Group commit: concurrent POSTs to a running server become one segment (or a few), not one per article, and
every acknowledged article is searchable; queries meanwhile never fail."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from servekit import serve

from api.settings import Settings
from corpus.article import Article
from indexer.stores import manifest
from indexer.stores.faiss import layout
from indexer.write import changes
from indexer.write.group import combine
from search.engine import Engine

KEY = "group-key"


def test_combine_keeps_the_last_word_on_each_id():
    a, b = Article("a", "A", "一"), Article("b", "B", "二")
    a2 = Article("a", "A", "三")
    change = combine(
        [
            changes.Change(upsert=(a, b)),
            changes.Change(remove=("a",)),
            changes.Change(upsert=(a2,)),
            changes.Change(remove=("b",)),
        ]
    )
    assert change.upsert == (a2,) and set(change.remove) == {"a", "b"}


def test_concurrent_posts_become_few_segments_and_all_are_searchable(
    tmp_path, bundled_index, embedder, gazetteer
):
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    before = len(manifest.read(layout.IndexDir(copy).require_current()).segments)
    settings = Settings(index_dir=copy, api_key=KEY, refresh_seconds=0.0, merge=False)
    posts = [
        {
            "title": f"群馬町の取り組み{i}",
            "body": f"群馬町は第{i}号の共同申請窓口を開いた。合言葉はグループ{i}番。",
        }
        for i in range(8)
    ]
    with serve(settings, Engine(copy, embedder, gazetteer)) as base:
        failures, stop = [], threading.Event()

        def query() -> None:
            while not stop.is_set():
                answer = httpx.get(base + "/search", params={"q": "窓口キャッシュレス"}, timeout=30)
                failures.extend([answer.text] if answer.status_code != 200 else [])

        reader = threading.Thread(target=query)
        reader.start()
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda body: httpx.post(
                        base + "/articles",
                        json=body,
                        timeout=60,
                        headers={"Authorization": f"Bearer {KEY}"},
                    ),
                    posts,
                )
            )
        stop.set()
        reader.join()
        assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
        for i, answer in enumerate(answers):
            found = httpx.get(
                base + "/search", params={"q": f"第{i}号の共同申請窓口 グループ{i}番", "k": 3}
            ).json()
            assert answer.json()["id"] in [p["article_id"] for p in found["passages"]]
    assert not failures, failures[:3]
    after = manifest.read(layout.IndexDir(copy).require_current())
    added = len(after.segments) - before
    print(
        f"8 concurrent POSTs → {added} new segment(s), generations {sorted({a.json()['generation'] for a in answers})}"
    )
    assert 1 <= added < 8 and after.articles == 5 + 8
