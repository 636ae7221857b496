"""Disk full at every write step of a build: a real file-size limit (RLIMIT_FSIZE, EFBIG) in a writer process,
and ENOSPC raised at each named write step in turn. The served index stays usable, nothing half-written is
served, the writer reports a clear error, and the next write succeeds with every acknowledged article."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faultkit import ROOT, cli_env, town_article

from indexer.stores.faiss import layout
from search.engine import Engine

WORKER = r"""
import json, resource, signal, sys
sys.path[:0] = [sys.argv[2], sys.argv[2] + '/..']  # faultkit, and the servekit it imports
from faultkit import town_article
from indexer.write import changes
from indexer.stores.faiss import writer as faiss_writer
from indexer.stores.faiss import layout
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from search.engine import Engine

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
import errno, importlib
index, limits = sys.argv[1], json.loads(sys.argv[3])
embedder, gazetteer = Embedder.load(), Gazetteer.load()
unlimited = resource.getrlimit(resource.RLIMIT_FSIZE)


def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


for step, limit in enumerate(limits):
    before = layout.IndexDir(index).require_current().name
    article = town_article(100 + step)
    if step % 2:  # every other step embeds nothing new, so the fault falls on the generation's own files
        faiss_writer.apply(index + "-warm", changes.Change(upsert=(article,)), embedder, gazetteer)
    patched = None
    if isinstance(limit, str):  # "module.attr": that write step fails with ENOSPC
        module, _, attr = limit.rpartition(".")
        try:
            owner = importlib.import_module(module)
        except ModuleNotFoundError:  # "module.Class.method"
            parent, _, name = module.rpartition(".")
            owner = getattr(importlib.import_module(parent), name)
        patched = (owner, attr, getattr(owner, attr))
        setattr(owner, attr, full)
    else:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, unlimited[1]))
    try:
        report = faiss_writer.apply(index, changes.Change(upsert=(article,)), embedder, gazetteer)
        outcome = {"ok": True, "generation": report.generation}
    except Exception as exc:
        outcome = {"ok": False, "error": type(exc).__name__, "detail": str(exc)[:120],
                   "user_error": getattr(exc, "code", None) == "write_failed"}
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, unlimited)
        if patched:
            setattr(*patched)
    engine = Engine(index, embedder, gazetteer)
    served = engine.search("電子申請サービス", 5)
    print(json.dumps({"limit": limit, "id": article.id, "before": before, "after": engine.view.name,
                      "passages": len(served["passages"]), **outcome}), flush=True)
"""

STEPS = [
    "indexer.write.embedcache.EmbeddingCache.put_many",
    "indexer.write.preparecache.PrepareCache.put_many",
    "indexer.stores.faiss.metadb.create",
    "indexer.stores.faiss.metadb.insert_chunks",
    "indexer.stores.faiss.vectors.save",
    "indexer.stores.faiss.postings.save",
    "indexer.stores.faiss.check.file_digests",
    "indexer.stores.faiss.layout.Building.finish",
    "indexer.stores.manifest.write",
    "indexer.stores.faiss.layout.mark_readable",
    "indexer.stores.faiss.layout.publish",
    "indexer.stores.faiss.layout._fsync_tree",
]
LIMITS = [
    0,
    1,
    512,
    2048,
    4096,
    8192,
    12288,
    16384,
    24576,
    32768,
    49152,
    65536,
    98304,
    131072,
    262144,
    1 << 20,
]


def test_disk_full_at_each_write_step_loses_nothing_acknowledged(
    tmp_path, small_index, embedder, gazetteer
):
    from faultkit import make_index

    make_index(
        Path(str(small_index) + "-warm"), embedder, gazetteer
    )  # shares no cache with the index under test
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(small_index),
            str(Path(__file__).parent),
            json.dumps(LIMITS + STEPS),
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(steps) == len(LIMITS) + len(STEPS)
    failed = [s for s in steps if not s["ok"]]
    assert len(failed) >= 8 + len(STEPS), (
        steps
    )  # the limits do reach the writes, and every injected step fails
    assert all(s["user_error"] for s in failed), (
        failed
    )  # a clear WriteFailed, never a raw traceback
    for step in steps:
        assert step["passages"] > 0, step  # whatever happened, the served index answers
        assert step["after"] == (step["generation"] if step["ok"] else step["before"]), step
    acknowledged = {town_article(i).id for i in range(3)} | {s["id"] for s in steps if s["ok"]}
    engine = Engine(small_index, embedder, gazetteer)
    stored = engine.view.article_ids()
    assert acknowledged <= stored
    index = layout.IndexDir(small_index)
    assert not [
        p
        for p in (*index.generations.iterdir(), *index.segments.iterdir())
        if p.name.startswith(".tmp-")
    ]
    from indexer.stores.faiss import writer as faiss_writer
    from indexer.write import changes

    final = faiss_writer.apply(
        small_index, changes.Change(upsert=(town_article(99),)), embedder, gazetteer
    )
    assert final.articles == len(stored) + 1
    print(
        "\n".join(
            f"{s['limit']!s:>44}: {'ok' if s['ok'] else s['error'] + ' ' + s['detail']}"
            for s in steps
        )
    )
