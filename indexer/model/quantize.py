"""Per-token int8: every weight product of the fused graph as int8 × int8, each token's activations scaled alone.

onnxruntime's dynamic quantisation scales a whole input tensor at once, so a text's vector depended on the
texts that shared its forward pass, and the feed-forward down-projections (fed by GELU, with outliers) lost
quality and had to stay fp32. Here each row (token) gets its own scale, from its own largest value:
- a vector depends only on its own text, whatever the batch or its padding (tested);
- all 48 weight products run in int8, the QKV projections included, and the word table is stored as int8 rows
  (407 → 120 MB; cosine to fp32 ≥ 0.998, benchmarks/results/quantization.md).

Built from standard operators (opset 21 blocked QuantizeLinear with one block per row) and onnxruntime's
MatMulIntegerToFloat and MultiHeadAttention, which the fused Attention operator is split into (its QKV product
quantised like the others; the attention itself stays fp32).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import helper, numpy_helper, version_converter

OPSET = 21  # QuantizeLinear with block_size
LEVELS = 127.0  # symmetric: -127..127 for weights, 1..255 around 128 for activations
MS_DOMAIN = "com.microsoft"


@dataclass
class _Rewrite:
    """Nodes and initialisers of the new graph; one quantisation per activation, shared by its consumers."""

    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    quantized: dict[str, tuple[str, str]] = field(default_factory=dict)


def symmetric_int8(matrix: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one float32 scale per slice along `axis` reduced (0: per column, 1: per row); the
    scales keep the reduced axis."""
    scales = np.maximum(np.abs(matrix).max(axis=axis, keepdims=True), 1e-12) / LEVELS
    q = np.clip(np.round(matrix / scales), -LEVELS, LEVELS).astype(np.int8)
    return q, scales.astype(np.float32)


def quantize_per_token(fp32_model):
    """The model with each weight MatMul (and each plain fused Attention's QKV product) in per-token int8."""
    model = version_converter.convert_version(fp32_model, OPSET)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    work = _Rewrite(initializers=_constants())
    for index, node in enumerate(graph.node):
        if node.op_type == "MatMul" and _is_weight(weights.get(node.input[1])):
            _int8_product(work, f"rq{index}", node.input[0], weights[node.input[1]], node.output[0])
        elif node.op_type == "Attention" and _plain_attention(node, weights):
            _split_attention(work, f"rq{index}", node, weights)
        elif node.op_type == "EmbedLayerNormalization" and _plain_embedding(node, weights, graph):
            _int8_embedding(work, f"rq{index}", node, weights)
        else:
            work.nodes.append(node)
    used = {name for node in work.nodes for name in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    graph.ClearField("node")
    graph.node.extend(work.nodes)
    graph.ClearField("initializer")
    graph.initializer.extend(kept + work.initializers)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model


def _constants() -> list:
    return [
        numpy_helper.from_array(np.array(1 / LEVELS, np.float32), "rq_inverse_levels"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "rq_smallest_scale"),
        numpy_helper.from_array(np.array([128], np.uint8), "rq_zero_point"),
        numpy_helper.from_array(np.array([-1], np.int64), "rq_last_axis"),
        numpy_helper.from_array(np.array(1.0, np.float32), "rq_one"),
    ]


def _is_weight(initializer) -> bool:
    return initializer is not None and len(initializer.dims) == 2 and initializer.data_type == 1


def _plain_attention(node, weights) -> bool:
    """A fused BERT Attention with packed QKV weights and bias, an optional key mask and no other option."""
    extra = {a.name for a in node.attribute} - {"num_heads"}
    return (
        not extra
        and 3 <= len(node.input) <= 4
        and _is_weight(weights.get(node.input[1]))
        and node.input[2] in weights
        and len(node.output) == 1
    )


def _plain_embedding(node, weights, graph) -> bool:
    """A fused BERT embedding (word, position and token-type tables, LayerNorm, the mask's lengths) without position
    ids or the embedding-sum output."""
    consumed = {name for other in graph.node for name in other.input}
    return (
        len(node.input) in (7, 8)
        and all(name in weights for name in node.input[2:7])
        and len(weights[node.input[2]].dims) == 2
        and (len(node.input) == 8 or not any(name in consumed for name in node.output[1:]))
        and not any(name in consumed for name in node.output[2:])
    )


def _int8_embedding(work: _Rewrite, p: str, node, weights) -> None:
    """The word table (most of the model's parameters) as int8 rows with one scale each, gathered and scaled back;
    positions, token types and LayerNorm as the fused operator computes them."""
    ids, types, words, positions, type_table, gamma, beta = node.input[:7]
    rows, scales = symmetric_int8(numpy_helper.to_array(weights[words]).astype(np.float32), axis=1)
    work.initializers += [
        numpy_helper.from_array(rows, p + "_words"),
        numpy_helper.from_array(scales, p + "_word_scales"),
        numpy_helper.from_array(np.array([0], np.int64), p + "_zero"),
        numpy_helper.from_array(np.array([1], np.int64), p + "_one"),
    ]
    epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-12)
    work.nodes += [
        helper.make_node("Gather", [p + "_words", ids], [p + "_rows"]),
        helper.make_node("Gather", [p + "_word_scales", ids], [p + "_row_scales"]),
        helper.make_node("Cast", [p + "_rows"], [p + "_rows_float"], to=1),
        helper.make_node("Mul", [p + "_rows_float", p + "_row_scales"], [p + "_word"]),
        helper.make_node("Shape", [ids], [p + "_length"], start=1, end=2),
        helper.make_node(
            "Slice", [positions, p + "_zero", p + "_length", p + "_zero"], [p + "_position"]
        ),
        helper.make_node("Gather", [type_table, types], [p + "_type"]),
        helper.make_node("Add", [p + "_word", p + "_position"], [p + "_word_position"]),
        helper.make_node("Add", [p + "_word_position", p + "_type"], [p + "_sum"]),
        helper.make_node(
            "LayerNormalization",
            [p + "_sum", gamma, beta],
            [node.output[0]],
            axis=-1,
            epsilon=epsilon,
        ),
    ]
    if len(node.input) == 8 and len(node.output) > 1 and node.output[1]:
        work.nodes.append(  # the mask index: each row's count of real tokens (int32, as the fused operator)
            helper.make_node("ReduceSum", [node.input[7], p + "_one"], [node.output[1]], keepdims=0)
        )


def _quantize_activation(work: _Rewrite, activation: str, width: int) -> tuple[str, str]:
    """uint8 rows around 128, each scaled by its own largest magnitude; shared by every consumer."""
    if activation not in work.quantized:
        p = f"rq_{len(work.quantized)}"
        work.nodes += [
            helper.make_node("Abs", [activation], [p + "_abs"]),
            helper.make_node("ReduceMax", [p + "_abs", "rq_last_axis"], [p + "_max"], keepdims=1),
            helper.make_node("Mul", [p + "_max", "rq_inverse_levels"], [p + "_raw_scale"]),
            helper.make_node("Max", [p + "_raw_scale", "rq_smallest_scale"], [p + "_scale"]),
            helper.make_node("Shape", [p + "_scale"], [p + "_scale_shape"]),
            helper.make_node("Expand", ["rq_zero_point", p + "_scale_shape"], [p + "_zero"]),
            helper.make_node(
                "QuantizeLinear",
                [activation, p + "_scale", p + "_zero"],
                [p + "_q"],
                axis=-1,
                block_size=width,
            ),
        ]
        work.quantized[activation] = (p + "_q", p + "_scale")
    return work.quantized[activation]


def _int8_product(work: _Rewrite, p: str, activation: str, weight, output: str) -> None:
    """output = activation @ weight in int8, scaled back by the weight's columns and the activation's rows."""
    matrix = numpy_helper.to_array(weight).astype(np.float32)
    q, scales = symmetric_int8(matrix, axis=0)
    work.initializers += [
        numpy_helper.from_array(q, p + "_weight"),
        numpy_helper.from_array(scales.reshape(-1), p + "_weight_scale"),
    ]
    rows, row_scales = _quantize_activation(work, activation, matrix.shape[0])
    work.nodes += [
        helper.make_node(
            "MatMulIntegerToFloat",
            [rows, p + "_weight", "rq_one", p + "_weight_scale", "rq_zero_point"],
            [p + "_product"],
            domain=MS_DOMAIN,
        ),
        helper.make_node("Mul", [p + "_product", row_scales], [output]),
    ]


def _split_attention(work: _Rewrite, p: str, node, weights) -> None:
    """Attention = QKV product (int8 here) + MultiHeadAttention over its three thirds, bias and mask unchanged."""
    activation, weight, bias = node.input[:3]
    mask = node.input[3] if len(node.input) > 3 else ""
    heads = next(a.i for a in node.attribute if a.name == "num_heads")
    _int8_product(work, p, activation, weights[weight], p + "_qkv")
    work.nodes += [
        helper.make_node(
            "Split", [p + "_qkv"], [p + "_q", p + "_k", p + "_v"], axis=-1, num_outputs=3
        ),
        helper.make_node(
            "MultiHeadAttention",
            [p + "_q", p + "_k", p + "_v", bias, mask],
            [node.output[0]],
            domain=MS_DOMAIN,
            num_heads=heads,
        ),
    ]
