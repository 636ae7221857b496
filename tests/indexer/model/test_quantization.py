"""The int8 export keeps the fp32 vectors: per-channel weights, per-token activations, no batch dependence."""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest

from indexer.analysis.prepare import prepare
from indexer.model import export
from indexer.model.base import Embedder, bundled_model_dir


@pytest.fixture(scope="module")
def int8_embedder():
    return Embedder.load(precision="int8")


@pytest.fixture(scope="module")
def fp32_embedder():
    return Embedder.load(precision="fp32")


@pytest.fixture(scope="module")
def sample(embedder, gazetteer, bundled_articles) -> tuple[list[str], list[str]]:
    """30 bundled passages as the index embeds them, and 20 query-like texts: the first sentence (≤ 40
    characters) of 20 other passages."""
    count = lambda texts: embedder.count_tokens(  # noqa: E731
        [embedder.info.passage_prompt + t for t in texts]
    )
    chunks = [
        p.embed_text
        for a in bundled_articles
        for p in prepare(a, gazetteer, count, embedder.info.max_tokens)
    ]
    assert len(chunks) >= 50
    queries = [re.split("[。\n]", c.strip())[0][:40] for c in chunks[-20:]]
    return chunks[:30], queries


@pytest.mark.slow
def test_int8_vectors_stay_within_cosine_0_995_of_fp32(fp32_embedder, int8_embedder, sample):
    embedder = fp32_embedder
    passages, queries = sample
    for fp32, int8 in (
        (embedder.encode_passages(passages), int8_embedder.encode_passages(passages)),
        (embedder.encode_queries(queries), int8_embedder.encode_queries(queries)),
    ):
        cos = (fp32 * int8).sum(axis=1)
        assert cos.min() >= 0.995, cos.min()
        assert cos.max() < 0.99999  # quantised, not a copy of fp32


def test_every_weight_product_is_int8_and_attention_keeps_its_mask(int8_embedder):
    directory = export.export_dir(bundled_model_dir())
    int8 = onnx.load(str(directory / export.FILES["int8"]), load_external_data=False).graph
    weights = {t.name: t for t in int8.initializer}
    ops = [node.op_type for node in int8.node]
    fp32_products = [n.name for n in int8.node if n.op_type == "MatMul" and n.input[1] in weights]
    assert fp32_products == []
    assert ops.count("MatMulIntegerToFloat") == 48  # 12 layers: QKV, attention out, FFN in, FFN out
    assert ops.count("MultiHeadAttention") == 12 and "Attention" not in ops
    assert "EmbedLayerNormalization" not in ops  # the word table is gathered as int8 rows
    assert {t.data_type for t in int8.initializer if t.name.endswith("_words")} == {
        onnx.TensorProto.INT8
    }
    assert all(
        n.input[4] for n in int8.node if n.op_type == "MultiHeadAttention"
    )  # the padding mask reaches the attention
    scales = [np.prod(list(t.dims)) for t in int8.initializer if t.name.endswith("_weight_scale")]
    assert min(scales) > 1  # one scale per output channel


def test_a_vector_depends_on_its_own_text_only(int8_embedder, sample):
    """Each token is scaled alone, so a text's vector is the same alone, in a batch, and padded beside longer
    texts (the old per-tensor int8 moved it to cosine 0.998)."""
    passages, queries = sample
    alone = np.stack([int8_embedder.encode_queries([q])[0] for q in queries])
    together = int8_embedder.encode_queries(queries)
    np.testing.assert_allclose(together, alone, atol=1e-6)
    padded = int8_embedder.encode_passages(passages[:8], batch_size=8)
    single = int8_embedder.encode_passages(passages[:8], batch_size=1)
    np.testing.assert_allclose(padded, single, atol=1e-6)
    short, long = int8_embedder.token_ids([queries[0], passages[0]])
    assert len(long) > 3 * len(short)
    beside_long = int8_embedder.forward([short, long])[0]  # three quarters of its row is padding
    np.testing.assert_allclose(beside_long, int8_embedder.forward([short])[0], atol=1e-6)


def test_a_graph_that_cannot_be_quantised_names_the_way_out(tmp_path):
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx graph" * 100)
    with pytest.raises(export.ModelUnavailable) as refused:
        export.quantize_int8(broken, tmp_path / "model.int8.onnx")
    assert "JSEARCH_PRECISION=fp32" in str(refused.value) and "int8 にできません" in str(
        refused.value
    )
    assert not (tmp_path / "model.int8.onnx").exists()
