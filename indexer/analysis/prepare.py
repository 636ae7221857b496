"""One article → its passages, the text each is embedded as, and the places each names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.article import Article
from corpus.metadata import find_urls
from indexer.analysis.chunker import Chunk, ChunkerConfig, chunk_text
from indexer.analysis.normalize import nfkc, nfkc_with_map
from indexer.places.gazetteer import Gazetteer
from indexer.places.mentions import Mention
from indexer.places.subjects import resolve_chunks


@dataclass(frozen=True)
class Passage:
    """A chunk ready to index: shown text and offsets, embedding text, link and places."""

    id: str
    ord: int
    chunk: Chunk
    embed_text: str
    url: str
    mentions: tuple[Mention, ...]


def embed_text(article: Article, chunk: Chunk) -> str:
    """What the model sees: title and section heading as context, then the passage (NFKC)."""
    context = [article.title] + (
        [chunk.heading] if chunk.heading and chunk.heading != article.title else []
    )
    return nfkc("\n".join(context + [chunk.text]))


def chunks_within(
    article: Article,
    count_tokens: Callable[[list[str]], list[int]],
    limit: int,
    config: ChunkerConfig = ChunkerConfig(),
) -> list[Chunk]:
    """Chunks whose embedding text fits the model's token limit, shrinking the size until they do."""
    for _ in range(6):
        chunks = chunk_text(article.text, config)
        counts = count_tokens([embed_text(article, c) for c in chunks]) if chunks else []
        if all(n <= limit for n in counts):
            return chunks
        config = ChunkerConfig(
            int(config.target * 0.7), int(config.max_chars * 0.7), config.paragraph
        )
    raise ValueError(f"chunks of {article.id} do not fit {limit} tokens")


def _raw_mention(mention: Mention, origin: list[int], raw_len: int) -> Mention:
    if mention.start < 0:
        return mention
    start = origin[mention.start] if mention.start < len(origin) else raw_len
    end = origin[mention.end - 1] + 1 if 0 < mention.end <= len(origin) else start
    return Mention(mention.place, start, end, mention.role)


def place_mentions(
    article: Article, chunks: Sequence[Chunk], gazetteer: Gazetteer
) -> list[tuple[Mention, ...]]:
    """Places per chunk, with offsets into the shown (not normalised) chunk text."""
    normalised = [nfkc_with_map(c.text) for c in chunks]
    found = resolve_chunks(
        [(norm, str(c.section)) for (norm, _), c in zip(normalised, chunks)],
        gazetteer,
        nfkc(article.title + "\n" + article.text),
        nfkc(article.source),
    )
    return [
        tuple(_raw_mention(m, origin, len(c.text)) for m in mentions)
        for mentions, (_, origin), c in zip(found, normalised, chunks)
    ]


def prepare(
    article: Article,
    gazetteer: Gazetteer,
    count_tokens: Callable[[list[str]], list[int]],
    limit: int,
) -> list[Passage]:
    """Every passage of one article."""
    chunks = chunks_within(article, count_tokens, limit)
    mentions = place_mentions(article, chunks, gazetteer)
    return [
        Passage(
            f"{article.id}-{i:04d}",
            i,
            c,
            embed_text(article, c),
            next(iter(find_urls(c.text)), article.url),
            m,
        )
        for i, (c, m) in enumerate(zip(chunks, mentions))
    ]


@dataclass(frozen=True)
class Prepared:
    """An article ready to write: its passages, their vectors' cache keys and their token counts."""

    article: Article
    passages: tuple[Passage, ...]
    counts: tuple[Counter, ...]
