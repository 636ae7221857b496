"""int8 quantisation variants of the ONNX model side by side against fp32 (issue 23).

Usage: .venv/bin/python benchmarks/quantization.py [--variants a,b,…] [--squad a,b,…] [--texts 1000]
                                                  [--queries 200] [--work DIR] [--out FILE]

Every variant is made here from the fp32 export (`export.ensure`, the shared cache is only read) into `--work`
(default artifacts/quantization, git-ignored), then measured:

1. file size;
2. cosine to fp32 on `--texts` distinct JSQuAD valid questions (embedded as queries) and as many JSQuAD valid
   paragraphs (embedded as passages), min and mean, each separately;
3. single-query latency p50/p95 over `--queries` other distinct JSQuAD questions, the variants (fp32 included)
   rotated per query in one loop, and passages/s on the bundled corpus's chunks (by length, batch 4, as the
   product embeds them), the variants taking turns, best of 2 rounds: the 2 cores are shared with other work,
   so only figures from one run compare;
4. quality as `jsearch eval … --mode hybrid` measures it (search.evaluation.run_file with the variant's embedder):
   dev queries on the bundled corpus indexed with the variant, and JSQuAD valid (4,429 questions; a few minutes
   a variant, so only for the variants named in `--squad`).

Static (QDQ) variants are calibrated on the bundled corpus's chunks as passages, and as queries on the dev
queries, the built-in benchmark queries and the first sentence (≤ 40 characters) of each bundled chunk: never on
a JSQuAD question.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import kit
import numpy as np
from onnxruntime.quantization import CalibrationDataReader

L = "/model/encoder/layer."


def ffn_out(layers: range | list[int]) -> list[str]:
    """The FFN down-projection MatMuls (the input after GELU) of these encoder layers."""
    return [f"{L}{i}/output/dense/MatMul" for i in layers]


def dynamic(**options) -> Callable[[Path, Path], None]:
    def make(fp32: Path, target: Path) -> None:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(fp32),
            str(target),
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            **options,
        )

    return make


def static(
    method: str, nodes_to_exclude: list[str] | None = None, **extra
) -> Callable[[Path, Path], None]:
    def make(fp32: Path, target: Path) -> None:
        import onnx
        from onnxruntime.quantization import (
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process

        # symbolic shape inference types the fused contrib ops' outputs: untyped, they count as non-float
        # and quantize_static quantises no activation at all (weights only, measured: cosine 0.9999)
        typed = target.with_suffix(".typed.onnx")
        quant_pre_process(
            str(fp32),
            str(typed),
            skip_optimization=True,
            skip_symbolic_shape=False,
            auto_merge=True,
        )
        quantize_static(
            str(typed),
            str(target),
            CalibrationReader(calibration_texts()),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=nodes_to_exclude,
            calibrate_method=getattr(CalibrationMethod, method),
            extra_options={
                "DefaultTensorType": onnx.TensorProto.FLOAT,
                "MatMulConstBOnly": True,
                **extra,
            },
        )
        typed.unlink()

    return make


def product(fp32: Path, target: Path) -> None:
    """What `indexer.model.export.quantize_int8` makes now."""
    from indexer.model.export import quantize_int8

    quantize_int8(fp32, target)


VARIANTS: dict[str, tuple[str, Callable[[Path, Path], None]]] = {
    "dyn-tensor": (
        "dynamic, per-tensor weights (int8 default before issue 23)",
        dynamic(),
    ),
    "dyn-channel": ("dynamic, per-channel weights", dynamic(per_channel=True)),
    "dyn-channel-rr": (
        "dynamic, per-channel, reduce_range (7-bit weights)",
        dynamic(per_channel=True, reduce_range=True),
    ),
    "dyn-channel-matmul": (
        "dynamic, per-channel, MatMul only (Attention incl. QKV and embeddings fp32)",
        dynamic(per_channel=True, op_types_to_quantize=["MatMul"]),
    ),
    "dyn-channel-no-ffn-out-4": (
        "dynamic, per-channel, FFN down-projection of layer 4 only fp32 (the most sensitive in a one-layer sweep)",
        dynamic(per_channel=True, nodes_to_exclude=ffn_out([4])),
    ),
    "qdq-minmax": ("static QDQ, per-channel, MatMul only, MinMax calibration", static("MinMax")),
    "qdq-percentile": (
        "static QDQ, per-channel, MatMul only, Percentile 99.999 calibration",
        static("Percentile", CalibPercentile=99.999),
    ),
    "qdq-no-ffn-out": (
        "static QDQ MinMax as qdq-minmax, FFN down-projections fp32",
        static("MinMax", nodes_to_exclude=ffn_out(range(12))),
    ),
    "dyn-channel-no-ffn-out": (
        "dynamic, per-channel, the FFN down-projections (the 12 MatMuls fed by GELU) fp32: the product's int8 "
        "from issue 23's first session (exporter 2), batch-dependent",
        dynamic(per_channel=True, nodes_to_exclude=ffn_out(range(12))),
    ),
    "product": (
        "indexer.model.export.quantize_int8 now (exporter 3): per-token int8 activations (one scale per row), "
        "per-channel int8 weights, all 48 weight products incl. QKV, attention as MultiHeadAttention",
        product,
    ),
}


# ---------------------------------------------------------------- data


def bundled_chunks() -> list[str]:
    """The texts the model embeds for the bundled corpus's passages (as `jsearch index` cuts them)."""
    from corpus.bundled import bundled_corpus_dir
    from corpus.loaders import load_paths
    from indexer.analysis.prepare import prepare
    from indexer.places.gazetteer import Gazetteer

    reference = embedder(fp32_path(), "fp32")
    count = lambda texts: reference.count_tokens(  # noqa: E731
        [reference.info.passage_prompt + t for t in texts]
    )
    gazetteer = Gazetteer.load()
    articles = load_paths([bundled_corpus_dir()]).articles
    return [
        p.embed_text
        for a in articles
        for p in prepare(a, gazetteer, count, reference.info.max_tokens)
    ]


def calibration_texts() -> list[str]:
    """Prompted calibration inputs: bundled chunks as passages; dev, built-in and chunk-opening queries."""
    chunks = bundled_chunks()
    openings = [re.split("[。\n]", c.strip())[0][:40] for c in chunks]
    queries = kit.dev_queries() + kit.BUILT_IN_QUERIES + openings
    return ["passage: " + c for c in chunks] + ["query: " + q for q in queries]


class CalibrationReader(CalibrationDataReader):
    """One text at a time, unpadded (padding would enter the activation ranges)."""

    def __init__(self, texts: list[str]) -> None:
        tokenizer = tokenizer_of()
        self.items = iter(
            [
                {"input_ids": ids, "attention_mask": np.ones_like(ids)}
                for ids in (
                    np.array([tokenizer.encode(t).ids[:512]], dtype=np.int64) for t in texts
                )
            ]
        )

    def get_next(self) -> dict | None:
        return next(self.items, None)


def jsquad_texts(count: int, skip: int = 0) -> tuple[list[str], list[str]]:
    """`count` distinct JSQuAD valid questions after the first `skip`, and the first `count` paragraphs."""
    data = kit.jsquad()
    questions = list(
        dict.fromkeys(
            " ".join(q["question"].split()) for a in data for p in a["paragraphs"] for q in p["qas"]
        )
    )
    paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
    return questions[skip : skip + count], paragraphs[:count]


# ---------------------------------------------------------------- models


def source_dir() -> Path:
    from indexer.model.base import bundled_model_dir

    return bundled_model_dir()


def fp32_path() -> Path:
    from indexer.model import export

    return export.ensure(source_dir(), "fp32")


def tokenizer_of():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def embedder(path: Path, precision: str, threads: int = 2):
    """An OrtEmbedder on this file, built as OrtEmbedder.open builds one."""
    from indexer.model.base import BUNDLED_MODEL_NAME
    from indexer.model.onnx_engine import OrtEmbedder, open_session, read_info

    tokenizer = tokenizer_of()
    info = read_info(source_dir(), BUNDLED_MODEL_NAME, precision)
    pad = tokenizer.token_to_id("<pad>") or 0
    return OrtEmbedder(open_session(path, threads), tokenizer, info, int(pad))


def build(names: list[str], work: Path) -> dict[str, tuple[Path, float]]:
    """Each variant's file (made once; delete --work to remake) and the seconds its making took."""
    work.mkdir(parents=True, exist_ok=True)
    fp32 = fp32_path()
    made = {}
    for name in names:
        target, seconds = work / f"{name}.onnx", work / f"{name}.seconds"
        if not target.exists():
            began = time.perf_counter()
            partial = work / f"{name}.partial.onnx"
            VARIANTS[name][1](fp32, partial)
            os.replace(partial, target)
            for leftover in work.glob("*augmented*"):
                leftover.unlink()
            seconds.write_text(f"{time.perf_counter() - began:.1f}")
        made[name] = (target, float(seconds.read_text()))
        print(f"made {name} in {made[name][1]:.1f} s", flush=True)
    return made


# ---------------------------------------------------------------- measurements


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def cosines(engines: dict, questions: list[str], paragraphs: list[str]) -> dict[str, tuple]:
    """min/mean cosine to fp32 of query vectors and of passage vectors."""
    ref_q = engines["fp32"].encode_queries(questions)
    ref_p = engines["fp32"].encode_passages(paragraphs)
    out = {}
    for name, engine in engines.items():
        cq = (engine.encode_queries(questions) * ref_q).sum(axis=1)
        cp = (engine.encode_passages(paragraphs) * ref_p).sum(axis=1)
        out[name] = (cq.min(), cq.mean(), cp.min(), cp.mean())
        print(f"cosine {name}: {out[name]}", flush=True)
    return out


def latency(engines: dict, queries: list[str]) -> dict[str, list[float]]:
    """Seconds per single query, the engines rotated per query so load drifts hit all alike."""
    names = list(engines)
    for engine in engines.values():
        engine.encode_queries([queries[0]])
    times: dict[str, list[float]] = {n: [] for n in names}
    for i, q in enumerate(queries):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            began = time.perf_counter()
            engines[name].encode_queries([q])
            times[name].append(time.perf_counter() - began)
    return times


def throughput(engines: dict, chunks: list[str], rounds: int = 2) -> dict[str, float]:
    """Passages/s, best of `rounds`, the engines taking turns within each round."""
    rates: dict[str, float] = {}
    for _ in range(rounds):
        for name, engine in engines.items():
            began = time.perf_counter()
            engine.encode_passages(chunks)
            rates[name] = max(rates.get(name, 0.0), len(chunks) / (time.perf_counter() - began))
    return rates


def quality(engine, squad: bool) -> dict:
    """Hybrid summaries as `jsearch eval` computes them: dev on the bundled corpus, JSQuAD valid if asked."""
    from search import evaluation

    scratch = Path(tempfile.mkdtemp(prefix="jsearch-bench-"))
    try:
        index = kit.bundled_index(engine, scratch)
        dev = evaluation.run_file(kit.DEV_QUERIES, ["hybrid"], index, engine)
        out = {"dev": dev["modes"]["hybrid"]["summary"]}
        if squad:
            began = time.perf_counter()
            result = evaluation.run_file(kit.JSQUAD, ["hybrid"], index, engine)
            out["squad"] = result["modes"]["hybrid"]["summary"]
            out["squad_seconds"] = time.perf_counter() - began
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--squad", default="", help="variants (fp32 included) also evaluated on JSQuAD valid"
    )
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=kit.ROOT / "artifacts" / "quantization")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    names = [n for n in args.variants.split(",") if n]
    squad = set(filter(None, args.squad.split(",")))
    made = build(names, args.work)
    files = {"fp32": fp32_path(), **{n: made[n][0] for n in names}}
    engines = {n: embedder(p, "fp32" if n == "fp32" else "int8") for n, p in files.items()}
    questions, paragraphs = jsquad_texts(args.texts)
    probe, _ = jsquad_texts(args.queries, skip=args.texts)
    chunks = bundled_chunks()
    lines = [
        f"cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} (at start; 2 cores shared with other "
        f"engineers' work) threads=2 onnxruntime={__import__('onnxruntime').__version__}",
        "",
    ]
    print(lines[0], flush=True)
    cos = cosines(engines, questions, paragraphs)
    times = latency(engines, probe)
    rates = throughput(engines, chunks)
    print("speed done", flush=True)
    scores = {}
    for name, engine in engines.items():
        scores[name] = quality(engine, name in squad)
        print(f"quality {name}: {scores[name]}", flush=True)
    lines += [
        "### Variants",
        "",
        row("variant", "how", "made in s"),
        row(*["---"] * 3),
        row("fp32", "the fused fp32 export (reference)", ""),
        *[row(n, VARIANTS[n][0], f"{made[n][1]:.0f}") for n in names],
        "",
        f"### Size, speed and cosine to fp32 ({len(questions)} JSQuAD valid questions as queries, "
        f"{len(paragraphs)} JSQuAD valid paragraphs as passages; latency: {len(probe)} other distinct "
        f"questions, one per call, variants rotated per query; passages/s: the bundled corpus's {len(chunks)} "
        "chunks, batch 4 by length, variants in turn, best of 2; all in one run)",
        "",
        row(
            "variant",
            "MB",
            "query p50 ms",
            "p95 ms",
            "× fp32 p50",
            "passages/s",
            "query cos min",
            "mean",
            "passage cos min",
            "mean",
        ),
        row(*["---"] * 10),
    ]
    base = kit.percentile(times["fp32"], 50)
    for name in files:
        p50 = kit.percentile(kit.millis(times[name]), 50)
        lines.append(
            row(
                name,
                f"{files[name].stat().st_size / 1e6:.0f}",
                f"{p50:.2f}",
                f"{kit.percentile(kit.millis(times[name]), 95):.2f}",
                f"{p50 / (base * 1000):.2f}",
                f"{rates[name]:.1f}",
                *(f"{v:.4f}" for v in cos[name]),
            )
        )
    lines += [
        "",
        "### Quality, hybrid (search.evaluation.run_file as `jsearch eval --mode hybrid`)",
        "",
        row(
            "variant",
            "JSQuAD valid nDCG@10",
            "R@1",
            "MRR@10",
            "dev muni R@5",
            "dev MRR@10",
            "dev nDCG@10",
            "dev hit@3",
        ),
        row(*["---"] * 8),
    ]
    for name, s in scores.items():
        q, d = s.get("squad", {}), s["dev"]
        lines.append(
            row(
                name,
                q.get("nDCG@10", "not run"),
                q.get("R@1", ""),
                q.get("MRR@10", ""),
                d.get("R@5"),
                d.get("MRR@10"),
                d.get("nDCG@10"),
                d.get("hit@3", ""),
            )
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
