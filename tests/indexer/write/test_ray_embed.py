"""Preparing and embedding on a real local Ray: the same passages and vectors as in-process, resumable, refused
cleanly when Ray is missing or unreachable, and never imported by the default path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from corpus.bundled import bundled_corpus_dir
from indexer.model.base import ModelInfo
from indexer.stores.faiss import layout
from indexer.write import changes, indexing
from indexer.write import ray_pipeline as ray_embed
from indexer.write.embedcache import EmbeddingCache
from indexer.write.pipeline import LOCAL, passage_keys, prepare_versions
from indexer.write.preparecache import PrepareCache, prepare_key
from search.engine import Engine

ROOT = Path(__file__).resolve().parents[3]
QUERIES = (
    "窓口キャッシュレスの事例",
    "宇佐市の取り組み",
    "生成AIを使った業務改善",
    "マイナンバーカードの活用",
)


@pytest.fixture(scope="module")
def ray_pipeline():
    """One local Ray for the module (starting Ray takes seconds), two single-threaded model actors."""
    pytest.importorskip("ray.data")
    pipeline = ray_embed.pipeline_for(ray_embed.LOCAL, workers=2, batch=16)
    yield pipeline
    pipeline.close()


def _python(
    code: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _cached(index_dir: Path, embedder, gazetteer, articles) -> tuple[list, dict[str, np.ndarray]]:
    """What a build left in the index's caches: each article's prepared passages, and every passage's vector."""
    cache = layout.IndexDir(index_dir).cache
    versions = prepare_versions(embedder, gazetteer)
    prepared = PrepareCache(cache / "prepared.sqlite")
    vectors = EmbeddingCache(cache / "embeddings.sqlite")
    try:
        items = prepared.get_many([prepare_key(a, versions) for a in articles])
        keys = passage_keys([p for item in items.values() for p in item.passages], embedder)
        return list(items.values()), vectors.get_many(keys)
    finally:
        prepared.close()
        vectors.close()


@pytest.mark.slow
def test_an_index_built_on_ray_holds_the_same_passages_and_vectors_and_answers_alike(
    tmp_path, ray_pipeline, embedder, gazetteer, bundled_articles, bundled_index
):
    change = changes.Change(upsert=tuple(bundled_articles), sources=(str(bundled_corpus_dir()),))
    report = indexing.apply(tmp_path / "ix", change, embedder, pipeline=ray_pipeline)
    assert (
        report.articles == 5
        and report.embedded_chunks == report.chunks == report.prepared_chunks > 100
    )
    items, vectors = _cached(tmp_path / "ix", embedder, gazetteer, bundled_articles)
    assert sorted(items, key=lambda i: i.article.id) == sorted(
        LOCAL.prepare(bundled_articles, embedder, gazetteer), key=lambda i: i.article.id
    )
    _, local = _cached(
        bundled_index, embedder, gazetteer, bundled_articles
    )  # built in process (LOCAL)
    assert vectors.keys() == local.keys() and len(vectors) > 100
    assert min(float(vectors[k] @ local[k]) for k in local) >= 0.9999
    on_ray, in_process = (
        Engine(tmp_path / "ix", embedder, gazetteer),
        Engine(bundled_index, embedder, gazetteer),
    )
    for query in QUERIES:
        ids = lambda engine, query=query: [p["id"] for p in engine.search(query, 10)["passages"]]  # noqa: E731
        assert ids(on_ray) == ids(in_process), query


@dataclass(frozen=True)
class KilledAfterFirstBlock(ray_embed.RayPipeline):
    """The real Ray pipeline, stopped as if killed once its first block of vectors is saved."""

    def encode(self, pairs, embedder):
        blocks = super().encode(pairs, embedder)
        first = next(blocks)
        blocks.close()  # stops Ray's execution of the rest
        yield first
        raise KeyboardInterrupt("killed after the first block")


@pytest.mark.slow
def test_a_run_killed_half_way_resumes_from_the_embedding_cache(
    tmp_path, ray_pipeline, embedder, gazetteer, bundled_articles
):
    change = changes.Change(upsert=tuple(bundled_articles))
    killed = KilledAfterFirstBlock(
        ray_pipeline.cluster, ray_pipeline.layout, 16, ray_pipeline.cache_dir
    )
    with pytest.raises(KeyboardInterrupt):
        indexing.apply(tmp_path / "ix", change, embedder, pipeline=killed)
    assert layout.IndexDir(tmp_path / "ix").current() is None  # nothing was committed
    report = indexing.apply(tmp_path / "ix", change, embedder, pipeline=ray_pipeline)
    assert report.embedded_chunks == report.chunks - 16 and report.prepared_chunks == 0


def test_a_refusal_in_a_worker_comes_back_bilingual_and_off_standard_output(ray_pipeline, capfd):
    class Elsewhere:
        info = ModelInfo("no-such-model-directory", 384, "query: ", "passage: ", 512)

    with pytest.raises(UserError) as info:
        list(ray_pipeline.encode([("k", "text")], Elsewhere()))
    assert "ONNX Runtime" in info.value.ja and "no-such-model-directory" in info.value.en
    time.sleep(1)  # Ray's driver prints the cluster's error reports from a thread of its own
    assert capfd.readouterr().out == ""


def test_the_layout_shares_the_cores_between_the_actors_as_far_as_memory_goes():
    here = ray_embed.Cluster("local", True, cpus=2, node_cpus=2, memory=16 << 30)
    assert ray_embed.plan_layout(here) == ray_embed.Layout(workers=2, threads=1, cpus=1.0)
    assert ray_embed.plan_layout(here, workers=1) == ray_embed.Layout(1, 2, 2.0)
    assert ray_embed.plan_layout(here, workers=4) == ray_embed.Layout(
        4, 1, 0.5
    )  # all four start, sharing cores
    cluster = ray_embed.Cluster("10.0.0.1:6379", False, cpus=64, node_cpus=16, memory=8 << 30)
    assert ray_embed.plan_layout(cluster) == ray_embed.Layout(
        5, 12, 12.0
    )  # 8 GiB holds five models
    assert ray_embed.plan_layout(cluster, workers=2).threads == 16  # one node's cores at most


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_an_unreachable_address_is_refused_at_once(address):
    began = time.perf_counter()
    with pytest.raises(ray_embed.RayUnreachable) as info:
        ray_embed.pipeline_for(address)
    assert time.perf_counter() - began < ray_embed.PROBE_SECONDS + 2
    assert (
        info.value.status == 503 and "接続できません" in info.value.ja and address in info.value.en
    )


def test_missing_ray_is_refused_with_the_install_command():
    done = _python("""
        import sys
        sys.modules["ray"] = None
        from indexer.write import ray_pipeline as ray_embed
        try:
            ray_embed.pipeline_for("local")
        except ray_embed.RayMissing as exc:
            print(exc.status, exc.ja, exc.en, sep="\\n")
        """)
    status, ja, en = done.stdout.splitlines()
    assert status == "503" and "Ray" in ja and "pip install 'jichitai-search[ray]'" in en, (
        done.stderr
    )


@pytest.mark.slow
def test_with_json_standard_output_holds_only_the_summary(tmp_path):
    """What `jsearch index --ray local --json` does: the progress bar and Ray's logs on standard error only."""
    pytest.importorskip("ray.data")
    done = _python(f"""
        import json, sys
        from corpus.bundled import bundled_corpus_dir
        from indexer.write import indexing, ray_pipeline as ray_embed
        from indexer.model.base import Embedder
        sources = [bundled_corpus_dir()]
        with ray_embed.pipeline_for("local") as pipeline:
            report = indexing.index_articles({str(tmp_path / "ix")!r}, indexing.load(sources).articles, sources,
                                             Embedder.load(), progress=True, pipeline=pipeline)
        print(json.dumps(indexing.summary(report, {str(tmp_path / "ix")!r})))
        """)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["articles"] == 5 and summary["embedded_chunks"] == summary["chunks"] > 100


def test_the_default_path_never_imports_ray(tmp_path):
    done = _python(
        f"""
        import sys
        from api.cli import app
        app(["index", "--index-dir", {str(tmp_path / "ix")!r}, "--json"], standalone_mode=False)
        assert "ray" not in sys.modules, sorted(m for m in sys.modules if m.startswith("ray"))
        """,
        env={"JSEARCH_MERGE": "false"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 5
