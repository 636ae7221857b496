"""The store's head: which commit readers see, which passage collection holds it, and its BM25 statistics.

Every article and passage row carries the commit that wrote it. Readers see rows with `floor <= commit <= head`;
a write inserts its rows under the next commit (invisible), then moves the head in one upsert of this row. Rows
the write replaces stay until then and are hidden by `pending` until they are deleted, so a crash at any point
leaves either the old or the new commit visible, never half of one. A term's document frequency is one row keyed
by the term (read by primary key): its value as of the commit that last changed it, and the value before, which
readers of an older head use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from indexer.stores.milvus.client import Names, dummy

KEY = "head"


@dataclass(frozen=True)
class Head:
    """One committed state of the store."""

    commit: int
    floor: int
    chunks: str  # the passage collection (a rebuild writes a new one)
    terms: str  # the document-frequency collection that goes with it
    model: str
    dimension: int
    query_prompt: str
    passage_prompt: str
    engine: str
    precision: str
    chunker_version: int
    tokenizer: str
    dense_index: str
    created: str
    articles: int = 0
    rows: int = 0  # live passages
    length_sum: float = 0.0  # their lexical lengths, for BM25's mean length
    next_row: int = 0  # passage ids are never reused
    sources: list[str] = field(default_factory=list)
    pending_commit: int = (
        0  # rows of these articles older than pending_commit are replaced, being deleted
    )
    pending_ids: list[str] = field(default_factory=list)
    retired: list[list] = field(
        default_factory=list
    )  # [collection, unix time]: passage collections to drop later
    synonyms: list[list[str]] = field(default_factory=list)  # the organisation's own synonym groups

    @property
    def name(self) -> str:
        return f"milvus-{self.commit:06d}"

    @property
    def avg_length(self) -> float:
        return self.length_sum / self.rows if self.rows else 1.0

    def but(self, **changes) -> Head:
        return replace(self, **changes)


def read(client, n: Names) -> Head | None:
    """The head, or None for a store never written."""
    if not client.has_collection(n.meta):
        return None
    found = client.query(n.meta, filter=f'key == "{KEY}"', output_fields=["doc"])
    if not found:
        return None
    doc = found[0]["doc"]
    return Head(**{k: v for k, v in doc.items() if k in Head.__dataclass_fields__})


def write(client, n: Names, head: Head) -> None:
    """Move the head: one row upserted, the switch every reader sees at once."""
    client.upsert(n.meta, [{"key": KEY, "doc": asdict(head), "v": dummy()}])


def load(client, head: Head) -> None:
    """Load the head's passage and term collections (Milvus keeps collections released after a restart)."""
    for name in (head.chunks, head.terms):
        client.load_collection(name)


def document_frequency(row: dict, head: Head) -> int:
    """A term row's document frequency as this head sees it."""
    return int(row["df"] if row["commit"] <= head.commit else row["before"])


def literal(values) -> str:
    """A Milvus list literal of strings (JSON quoting, which Milvus's expression parser reads)."""
    return json.dumps(list(values), ensure_ascii=False)


def visible(head: Head) -> str:
    """The filter every read of articles and passages goes through."""
    expr = f"commit >= {head.floor} and commit <= {head.commit}"
    if head.pending_ids:
        expr += f" and not (article_id in {literal(head.pending_ids)} and commit < {head.pending_commit})"
    return expr
