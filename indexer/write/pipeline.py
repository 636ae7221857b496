"""Prepare and embed articles into passages and vectors, through the prepare and embedding caches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.article import Article
from indexer.analysis import lexical
from indexer.analysis.chunker import CHUNKER_VERSION
from indexer.analysis.prepare import Passage, Prepared, prepare
from indexer.model.base import Embedder
from indexer.places.gazetteer import Gazetteer
from indexer.write.embedcache import EmbeddingCache, embed_key
from indexer.write.preparecache import PrepareCache, prepare_key

CACHE_BLOCK = 256
PROGRESS_FROM = 512  # passages to embed before a progress bar is worth showing


class Pipeline(Protocol):
    """Where passages are prepared and embedded: in this process (LocalPipeline) or spread out (indexer/ray_embed)."""

    def prepare(
        self, articles: Sequence[Article], embedder: Embedder, gazetteer: Gazetteer
    ) -> list[Prepared]: ...

    def encode(
        self, pairs: Sequence[tuple[str, str]], embedder: Embedder
    ) -> Iterable[tuple[list[str], np.ndarray]]: ...


class LocalPipeline:
    """Prepare and embed in this process, a cache block at a time."""

    def prepare(
        self, articles: Sequence[Article], embedder: Embedder, gazetteer: Gazetteer
    ) -> list[Prepared]:
        return [prepare_one(a, embedder, gazetteer) for a in articles]

    def encode(
        self, pairs: Sequence[tuple[str, str]], embedder: Embedder
    ) -> Iterable[tuple[list[str], np.ndarray]]:
        """(keys, vectors) for (cache key, text) pairs, block by block."""
        for i in range(0, len(pairs), CACHE_BLOCK):
            block = pairs[i : i + CACHE_BLOCK]
            yield [k for k, _ in block], embedder.encode_passages([t for _, t in block])


LOCAL = LocalPipeline()


def prepare_one(article: Article, embedder: Embedder, gazetteer: Gazetteer) -> Prepared:
    """One article's passages and their lexical token counts."""
    info = embedder.info
    count = lambda texts: embedder.count_tokens([info.passage_prompt + t for t in texts])  # noqa: E731
    passages = tuple(prepare(article, gazetteer, count, info.max_tokens))
    return Prepared(article, passages, tuple(lexical.counts(p.embed_text) for p in passages))


def passage_keys(passages: Sequence[Passage], embedder: Embedder) -> list[str]:
    """The embedding-cache key of each passage (model, prompt, text)."""
    info = embedder.info
    return [embed_key(info.vectors, info.passage_prompt, p.embed_text) for p in passages]


def embed_passages(
    passages: Sequence[Passage],
    keys: list[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    progress: bool,
    pipeline: Pipeline = LOCAL,
) -> tuple[np.ndarray, int]:
    """Vectors for the passages, from the cache where it has them; returns them and how many were embedded."""
    info = embedder.info
    cached = cache.get_many(list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    text_of = {k: p.embed_text for k, p in zip(keys, passages)}
    with _progress(len(missing), progress) as bar:
        for block, fresh in pipeline.encode([(k, text_of[k]) for k in missing], embedder):
            cache.put_many(
                dict(zip(block, fresh))
            )  # saved as it goes: a build killed half-way keeps its work
            cached.update(zip(block, fresh))
            bar.update(len(block))
    matrix = (
        np.stack([cached[k] for k in keys]) if keys else np.zeros((0, info.dimension), np.float32)
    )
    return matrix.astype(np.float32), len(missing)


def _progress(total: int, wanted: bool):
    """The product's own progress bar, on standard error, only for work long enough to watch."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        disable=not wanted or total < PROGRESS_FROM,
        unit="passages",
        desc="埋め込み / embedding",
        leave=False,
    )


def code_version() -> str:
    """A digest of the modules that shape prepared passages: editing any of them invalidates the prepare cache."""
    from indexer.analysis import chunker, normalize
    from indexer.analysis import prepare as prepare_module
    from indexer.places import mentions, subjects

    digest = hashlib.sha1()
    for module in (chunker, mentions, subjects, normalize, prepare_module, lexical):
        assert module.__file__ is not None  # modules loaded from source files
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def prepare_versions(embedder: Embedder, gazetteer: Gazetteer) -> str:
    info = embedder.info
    return "|".join(
        (
            str(CHUNKER_VERSION),
            lexical.TOKENIZER,
            gazetteer.fingerprint,
            code_version(),
            info.name,
            info.passage_prompt,
            str(info.max_tokens),
        )
    )


def prepare_all(
    articles: Sequence[Article],
    embedder: Embedder,
    gazetteer: Gazetteer,
    cache_dir: Path,
    pipeline: Pipeline = LOCAL,
) -> tuple[list[Prepared], int]:
    """Each article's passages and token counts, from the prepare cache where it has them; returns them and how
    many passages were prepared afresh."""
    versions = prepare_versions(embedder, gazetteer)
    keys = [prepare_key(a, versions) for a in articles]
    cache = PrepareCache(cache_dir / "prepared.sqlite")
    try:
        found = cache.get_many(keys)
        todo = {k: a for k, a in zip(keys, articles) if k not in found}
        fresh = dict(zip(todo, pipeline.prepare(list(todo.values()), embedder, gazetteer)))
        cache.put_many(fresh)
    finally:
        cache.close()
    items = [fresh.get(k) or _with_article(found[k], a) for k, a in zip(keys, articles)]
    return items, sum(len(p.passages) for p in fresh.values())


def _with_article(item: Prepared, article: Article) -> Prepared:
    """A cached record with this run's article (source, date and path are not part of the key)."""
    return Prepared(article, item.passages, item.counts)


def prepare_and_embed(
    articles: Sequence[Article],
    embedder: Embedder,
    gazetteer: Gazetteer,
    cache_dir: Path,
    progress: bool,
    pipeline: Pipeline = LOCAL,
) -> tuple[list[Prepared], list[str], np.ndarray, int, int]:
    """Prepared articles, their passages' cache keys and vectors (row order), and the embedded/prepared counts;
    both caches under `cache_dir` are used and filled, so a killed run resumes where it stopped."""
    items, prepared = prepare_all(articles, embedder, gazetteer, cache_dir, pipeline)
    flat = [p for item in items for p in item.passages]
    keys = passage_keys(flat, embedder)
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite")
    try:
        matrix, embedded = embed_passages(flat, keys, embedder, cache, progress, pipeline)
    finally:
        cache.close()
    return items, keys, matrix, embedded, prepared
