"""The int8 export keeps the fp32 vectors: per-channel weights, the FFN down-projections left in fp32."""

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


def test_the_ffn_down_projections_stay_fp32_and_the_rest_is_int8(int8_embedder):
    directory = export.export_dir(bundled_model_dir())
    fp32 = onnx.load(str(directory / export.FILES["fp32"]), load_external_data=False).graph
    kept = export.ffn_down_projections(fp32)
    assert kept == [f"/model/encoder/layer.{i}/output/dense/MatMul" for i in range(12)]
    int8 = onnx.load(str(directory / export.FILES["int8"]), load_external_data=False).graph
    ops = {node.name: node.op_type for node in int8.node}
    assert all(ops[name] == "MatMul" for name in kept)
    assert sum(op == "MatMulInteger" for op in ops.values()) == 36 - 12
    assert sum(op == "QAttention" for op in ops.values()) == 12
    per_channel = [np.prod(list(t.dims)) for t in int8.initializer if t.name.endswith("_scale")]
    assert max(per_channel) > 1  # one scale per output channel, not one per tensor
