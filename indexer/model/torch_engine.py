"""The torch engine: sentence-transformers' own encode (the reference the ONNX engine is measured against)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from indexer.model.base import Embedder, ModelInfo

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def _open_model(location: Path | str) -> SentenceTransformer:
    """A CPU SentenceTransformer; a local directory is read with no network access at all, and quietly."""
    from sentence_transformers import (
        SentenceTransformer,  # heavy: imported only when a model is loaded
    )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every command
    if isinstance(location, Path):
        return SentenceTransformer(str(location), device="cpu", local_files_only=True)
    return SentenceTransformer(location, device="cpu")


def _dimension(model: SentenceTransformer) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    dimension = getter()
    if dimension is None:
        raise ValueError("the model does not report its embedding dimension")
    return int(dimension)


def _model_info(model: SentenceTransformer, name: str) -> ModelInfo:
    # typed dict[str, str | None], but sentence-transformers turns a None prompt into "" when it loads
    prompts = cast("dict[str, str]", dict(model.prompts or {}))
    return ModelInfo(
        name=name,
        dimension=_dimension(model),
        query_prompt=prompts.get("query", ""),
        passage_prompt=prompts.get("passage", ""),
        max_tokens=int(model.max_seq_length or 512),
        engine="torch",
        precision="fp32",
    )


class TorchEmbedder(Embedder):
    """A SentenceTransformer on CPU with the prompts of its model, behind a lock (its fast tokenizer fails when
    two threads use it at once: "Already borrowed")."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.info = _model_info(model, name)
        self._lock = threading.Lock()
        self._counter = copy.deepcopy(model.tokenizer)  # counting never waits behind an encode
        self._count_lock = threading.Lock()

    @classmethod
    def open(cls, location: Path | str, name: str) -> TorchEmbedder:
        return cls(_open_model(location), name)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.info.query_prompt, batch_size=32, show_progress=False)

    def encode_passages(
        self, texts: list[str], batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        parts = [
            self._encode(
                texts[i : i + batch_size], self.info.passage_prompt, batch_size, show_progress
            )
            for i in range(0, len(texts), batch_size)
        ]  # batch by batch: searches get their turn
        return np.concatenate(parts) if parts else self._encode([], "", batch_size, False)

    def count_tokens(self, texts: list[str]) -> list[int]:
        with self._count_lock:
            return count_with(self._counter, texts)

    def _encode(
        self, texts: list[str], prompt: str, batch_size: int, show_progress: bool
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                prompt=prompt,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def count_with(tokenizer: Any, texts: list[str]) -> list[int]:
    """Token counts of the texts under one tokenizer (special tokens included, no truncation)."""
    if not texts:
        return []
    encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]
