"""The ONNX Runtime engine: same vectors as torch in fp32, int8 kept apart, the export checked and rebuilt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.model import export
from indexer.model.base import DEFAULT_PRECISION, Embedder, bundled_model_dir, default_cache_dir
from indexer.stores import manifest
from indexer.stores.faiss import writer as faiss_writer
from indexer.stores.faiss.layout import IndexDir
from indexer.write import changes
from search.engine import Engine

ROOT = Path(__file__).resolve().parents[3]
TEXTS = [
    "窓口キャッシュレス化の実証実験を実施",
    "LINE で住民票の写しを請求できる",
    "ガバメントクラウドへの移行",
    "How are municipalities moving to the Government Cloud?",
    "ﾃﾞｼﾞﾀﾙ田園都市国家構想交付金",
]
LONG = (
    "自治体の窓口業務をデジタル化し、住民の待ち時間を減らす取り組みが全国で進んでいる。" * 40
)  # > 512 tokens


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder.load(engine="torch")


@pytest.fixture(scope="module")
def int8_embedder():
    return Embedder.load(precision="int8")


@pytest.fixture(scope="module")
def fp32_embedder():
    return Embedder.load(precision="fp32")


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_fp32_vectors_are_the_torch_vectors(fp32_embedder, torch_embedder):
    embedder = fp32_embedder
    assert (embedder.info.engine, embedder.info.precision, torch_embedder.info.engine) == (
        "onnx",
        "fp32",
        "torch",
    )
    assert (
        embedder.count_tokens([LONG])[0] > embedder.info.max_tokens
    )  # truncated by hand like sentence-transformers
    assert _cos(embedder.encode_queries(TEXTS), torch_embedder.encode_queries(TEXTS)).min() > 0.9999
    passages = TEXTS + [LONG]
    assert (
        _cos(
            embedder.encode_passages(passages, batch_size=2),
            torch_embedder.encode_passages(passages),
        ).min()
        > 0.9999
    )
    assert embedder.count_tokens(passages) == torch_embedder.count_tokens(passages)
    assert (
        embedder.info.vectors == torch_embedder.info.vectors
    )  # one family: an index may mix the two engines


def test_int8_is_close_but_its_own_family(fp32_embedder, int8_embedder):
    embedder = fp32_embedder
    cos = _cos(int8_embedder.encode_queries(TEXTS), embedder.encode_queries(TEXTS))
    assert 0.95 < cos.min() and cos.max() < 0.99999
    assert (
        int8_embedder.info.vectors != embedder.info.vectors
        and int8_embedder.info.precision == "int8"
    )
    directory = export.export_dir(bundled_model_dir())
    assert (directory / "model.int8.onnx").stat().st_size < (
        directory / "model.onnx"
    ).stat().st_size / 3  # the word table too is int8 (96 M of the 118 M parameters)


def test_the_export_is_made_once_and_recorded(embedder):
    directory = export.export_dir(bundled_model_dir())
    before = (directory / "model.onnx").stat()
    again = Embedder.load()
    assert again.info == embedder.info and (directory / "model.onnx").stat().st_ino == before.st_ino
    assert export.verify(directory, "fp32") and export.is_current(
        directory, bundled_model_dir(), "fp32"
    )


def _linked_cache(tmp_path: Path, int8: bool = False) -> Path:
    """A cache directory whose model files are hard links to the shared ones (a test never writes through them)."""
    Embedder.load(precision="int8" if int8 else "fp32")
    source = default_cache_dir() / "models"
    for directory in (bundled_model_dir(), export.export_dir(bundled_model_dir())):
        shutil.copytree(directory, tmp_path / "models" / directory.name, copy_function=os.link)
    assert (source / bundled_model_dir().name).is_dir()
    return tmp_path


def _replace_file(path: Path, data: bytes, keep_stamp: bool = False) -> None:
    """New bytes in a new inode (the hard-linked original stays whole), optionally with the old size and time."""
    stat = path.stat()
    path.unlink()
    path.write_bytes(data[: stat.st_size].ljust(stat.st_size, b"\0") if keep_stamp else data)
    if keep_stamp:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.slow
def test_a_truncated_export_is_made_again(tmp_path, fp32_embedder):
    embedder = fp32_embedder
    cache = _linked_cache(tmp_path)
    model = export.export_dir(bundled_model_dir(cache)) / "model.onnx"
    _replace_file(model, model.read_bytes()[:4096])
    rebuilt = Embedder.load(cache_dir=cache, precision="fp32")
    np.testing.assert_allclose(
        rebuilt.encode_queries(TEXTS), embedder.encode_queries(TEXTS), atol=1e-5
    )
    assert model.stat().st_size > 100 << 20 and export.verify(model.parent, "fp32")


@pytest.mark.slow
def test_an_unreadable_export_with_an_intact_stamp_is_made_again(tmp_path, int8_embedder):
    cache = _linked_cache(tmp_path, int8=True)
    directory = export.export_dir(bundled_model_dir(cache))
    fp32_inode = (directory / "model.onnx").stat().st_ino
    _replace_file(directory / "model.int8.onnx", b"not an onnx file " * 1000, keep_stamp=True)
    assert export.is_current(
        directory, bundled_model_dir(cache), "int8"
    )  # size and time say nothing changed
    assert not export.verify(directory, "int8")
    rebuilt = Embedder.load(
        cache_dir=cache, precision="int8"
    )  # onnxruntime refuses the file: quantised again
    np.testing.assert_allclose(
        rebuilt.encode_queries(TEXTS), int8_embedder.encode_queries(TEXTS), atol=1e-4
    )
    assert (
        export.verify(directory, "int8") and (directory / "model.onnx").stat().st_ino == fp32_inode
    )


def test_a_missing_export_without_torch_is_refused_clearly(tmp_path, bundled_index):
    cache = _linked_cache(tmp_path)
    for name in export.FILES.values():  # int8 is quantised from fp32, which only torch can export
        (export.export_dir(bundled_model_dir(cache)) / name).unlink(missing_ok=True)
    code = "import sys; sys.modules['torch'] = None; from api.cli import main; main()"  # torch cannot be imported
    done = subprocess.run(
        [sys.executable, "-c", code, "search", "窓口", "--index-dir", str(bundled_index)],
        env={**os.environ, "JSEARCH_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert (
        "エラー: ONNX モデルがなく" in done.stderr
        and "Error: the ONNX model is missing" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_the_manifest_records_engine_and_precision_and_refuses_to_mix(
    tmp_path, fp32_embedder, int8_embedder, gazetteer, bundled_articles, bundled_index
):
    served = manifest.read(IndexDir(bundled_index).require_current())
    assert (served.engine, served.precision) == ("onnx", DEFAULT_PRECISION) == ("onnx", "int8")
    with pytest.raises(manifest.IndexMismatch, match="JSEARCH_PRECISION=int8"):
        Engine(bundled_index, fp32_embedder, gazetteer)
    root = tmp_path / "index"
    report = faiss_writer.apply(
        root, changes.Change(upsert=tuple(bundled_articles[:2])), fp32_embedder, gazetteer
    )
    assert manifest.read(IndexDir(root).require_current()).precision == "fp32"
    assert Engine(root, fp32_embedder, gazetteer).search("窓口キャッシュレス", 3)["passages"]
    with pytest.raises(manifest.IndexMismatch, match="fp32"):
        faiss_writer.apply(
            root, changes.Change(upsert=tuple(bundled_articles[2:3])), int8_embedder, gazetteer
        )
    again = faiss_writer.apply(
        root,
        changes.Change(upsert=tuple(bundled_articles[:2]), replace_all=True),
        int8_embedder,
        gazetteer,
    )
    assert (
        again.embedded_chunks == report.chunks
    )  # the fp32 vectors in the cache are never reused as int8
    assert manifest.read(IndexDir(root).require_current()).precision == "int8"


def test_a_model_directory_of_the_user_is_never_written_to(tmp_path, embedder):
    own = tmp_path / "models-of-mine" / "e5"
    shutil.copytree(bundled_model_dir(), own, copy_function=os.link)
    cache = tmp_path / "cache"
    target = export.export_dir(own, cache)
    assert target.parent == (cache / "models" / "onnx").resolve() and target.name.startswith("e5-")
    # the export already made for the bundled copy serves (same files, same stamps): nothing is exported again
    shutil.copytree(export.export_dir(bundled_model_dir()), target, copy_function=os.link)
    before = sorted(p.name for p in own.parent.iterdir())
    mine = Embedder.load(str(own), cache_dir=cache)
    assert sorted(p.name for p in own.parent.iterdir()) == before == ["e5"]
    assert mine.info.name == str(own)
    np.testing.assert_allclose(
        mine.encode_queries(TEXTS), embedder.encode_queries(TEXTS), atol=1e-6
    )
