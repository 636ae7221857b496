"""One served commit of the Milvus store: the same reads as a FAISS commit point (faiss/reader.py), answered by
Milvus with the head's visibility filter, so that any number of replicas pointed at one Milvus answer alike."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from indexer.analysis import lexical
from indexer.stores import bm25, manifest
from indexer.stores.base import LexicalHits, Vocabulary, VocabularyPart, descending
from indexer.stores.milvus import client as mc
from indexer.stores.milvus import head as mh
from indexer.stores.milvus import sparse
from indexer.stores.spec import StoreSpec

ARTICLE_FIELDS = [
    "article_id",
    "title",
    "source",
    "published",
    "url",
    "path",
    "content_hash",
    "urls",
    "chunks",
    "text",
]
CHUNK_FIELDS = [
    "row",
    "id",
    "article_id",
    "ord",
    "start",
    "end",
    "text",
    "heading",
    "url",
    "embed_key",
    "title",
    "source",
    "published",
    "mentions",
]
SEARCH_FIELDS = CHUNK_FIELDS + [
    "prefectures"
]  # vectors are not sent back: that costs more than a second search
MAX_IN = 1000  # rows per `row in [...]` query
ROW_CACHE = 20_000  # passages kept per head: a head's rows never change, so searches fill it and reads use it


def _chunk(r: Mapping) -> dict:
    """A passage row as the FAISS store returns it (a date that is absent is None, not "")."""
    return {
        **{k: r[k] for k in CHUNK_FIELDS if k != "mentions"},
        "published": r["published"] or None,
    }


def _article(r: Mapping) -> dict:
    out = {k: r[k] for k in ARTICLE_FIELDS if k in r}
    out["id"] = r["article_id"]
    if "published" in out:
        out["published"] = out["published"] or None
    if "text" in out:
        out["text"] = "".join(out["text"])
    return out


@dataclass(frozen=True)
class MilvusCommit:
    """The store as of one head; every read filters by it, so a later write never shows through half-done."""

    store: StoreSpec
    client: object
    names: mc.Names
    head: mh.Head
    _df_cache: dict = field(default_factory=dict, compare=False, repr=False)
    _row_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.head.name

    remote = True  # calls go over the network (or to Milvus Lite's server thread): the engine overlaps them

    @property
    def parts(self) -> tuple:
        return ()

    @property
    def size(self) -> int:
        return self.head.next_row

    @property
    def live_rows(self) -> int:
        return self.head.rows

    @functools.cached_property
    def manifest(self) -> manifest.Manifest:
        h = self.head
        return manifest.Manifest(
            h.model,
            h.dimension,
            h.query_prompt,
            h.passage_prompt,
            h.chunker_version,
            h.tokenizer,
            h.dense_index.lower(),
            h.articles,
            h.rows,
            h.created,
            h.name,
            sources=list(h.sources),
            engine=h.engine,
            precision=h.precision,
            synonyms=[list(g) for g in h.synonyms],
        )

    @functools.cached_property
    def visible(self) -> str:
        return mh.visible(self.head)

    def _call(self, method: str, *args, **kwargs):
        return mc.guarded(self.store, getattr(self.client, method), *args, **kwargs)

    def _where(self, allowed: str | None) -> str:
        return self.visible if not allowed else f"({self.visible}) and ({allowed})"

    # ------------------------------------------------------------------ filters and ranking

    def restrict(self, filters) -> str:
        """The filters as a Milvus expression, evaluated before ranking (milvus/filters.py)."""
        from indexer.stores.milvus.filters import expression

        return expression(filters)

    def search_dense(
        self, vector: np.ndarray, k: int, allowed: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) by inner product among the visible passages that pass the filter."""
        found = self._call(
            "search",
            self.head.chunks,
            data=[np.asarray(vector, np.float32).tolist()],
            anns_field="dense",
            limit=k,
            filter=self._where(allowed),
            output_fields=SEARCH_FIELDS,
            search_params={"metric_type": "IP", "params": {"ef": max(64, k)}},
        )[0]
        return self._hits(found)

    def _hits(self, found: list) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) best first; the rows' fields are kept for the reads that follow (one trip, not four)."""
        if len(self._row_cache) > ROW_CACHE:
            self._row_cache.clear()
        for hit in found:
            self._row_cache[int(hit["entity"]["row"])] = hit["entity"]
        scores = np.array([h["distance"] for h in found], np.float32)
        rows = np.array([h["entity"]["row"] for h in found], np.int64)
        order = np.lexsort((rows, -scores))
        return scores[order], rows[order]

    def dense_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of the query with these rows' vectors, by a search restricted to them."""
        return self._scores_of("dense", np.asarray(vector, np.float32).tolist(), rows)

    def _scores_of(self, field: str, query, rows: np.ndarray) -> np.ndarray:
        ids = sorted({int(r) for r in rows})
        got: dict[int, float] = {}
        for i in range(0, len(ids), MAX_IN):
            part = ids[i : i + MAX_IN]
            found = self._call(
                "search",
                self.head.chunks,
                data=[query],
                anns_field=field,
                limit=len(part),
                filter=f"row in {part}",
                output_fields=["row"],
                search_params={"metric_type": "IP", "params": {"ef": max(64, len(part))}},
            )[0]
            got.update((int(h["entity"]["row"]), float(h["distance"])) for h in found)
        return np.array([got.get(int(r), 0.0) for r in rows], np.float32)

    def lexical_stats(self, terms: list[str]) -> bm25.Stats:
        """BM25 statistics: the head's row count and mean length, and each term's document frequency (read by key)."""
        ids = {t: sparse.term_id(t) for t in set(terms)}
        df = self._df(tuple(sorted(set(ids.values()))))
        return bm25.Stats(
            self.head.rows, self.head.avg_length, {t: df.get(i, 0) for t, i in ids.items()}
        )

    def lexical_hits(
        self,
        query: str,
        pool: int,
        allowed: str | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> LexicalHits:
        """The `pool` best passages by BM25 (Milvus sparse inner product), and the BM25 score of any row; `extra`:
        added terms (a query's synonyms) with their weight beside the typed terms' counts."""
        terms: dict[str, float] = dict(Counter(lexical.tokenize(query)))
        for term, weight in (extra or {}).items():
            terms[term] = terms.get(term, 0.0) + weight
        df = self._df(tuple(sorted({sparse.term_id(t) for t in terms})))
        weights = sparse.query_vector(terms, df, self.head.rows)
        if not weights:
            return LexicalHits(np.zeros(0, np.int64), lambda rows: np.zeros(len(rows), np.float32))
        found = self._call(
            "search",
            self.head.chunks,
            data=[weights],
            anns_field="sparse",
            limit=pool,
            filter=self._where(allowed),
            output_fields=SEARCH_FIELDS,
            search_params={"metric_type": "IP"},
        )[0]
        scores, rows = self._hits(found)
        keep = scores > 0
        known = dict(zip(rows[keep].tolist(), scores[keep].tolist()))
        return LexicalHits(rows[keep], functools.partial(self._lexical_scores, weights, known))

    def _lexical_scores(self, weights: dict, known: dict, rows: np.ndarray) -> np.ndarray:
        missing = np.array([int(r) for r in rows if int(r) not in known], np.int64)
        found = (
            dict(zip(missing.tolist(), self._scores_of("sparse", weights, missing).tolist()))
            if len(missing)
            else {}
        )
        return np.array([known.get(int(r), found.get(int(r), 0.0)) for r in rows], np.float32)

    def _df(self, ids: tuple[int, ...]) -> dict[int, int]:
        """Document frequencies of term ids as of this head (they cannot change under it: cached)."""
        if ids not in self._df_cache:
            if len(self._df_cache) > 4096:
                self._df_cache.clear()
            self._df_cache[ids] = self._count_df(ids) if ids else {}
        return self._df_cache[ids]

    def _count_df(self, ids: tuple[int, ...]) -> dict[int, int]:
        found = self._call(
            "get", self.head.terms, ids=list(ids), output_fields=["term", "df", "commit", "before"]
        )
        return {int(r["term"]): mh.document_frequency(r, self.head) for r in found}

    # ------------------------------------------------------------------ rows

    def _rows(self, rows: np.ndarray, fields: list[str]) -> dict[int, dict]:
        """Visible passages by row id: from what this head's searches returned, else from Milvus."""
        cache = self._row_cache
        out: dict[int, dict] = {
            int(r): cache[int(r)]
            for r in rows
            if int(r) in cache and set(fields) <= cache[int(r)].keys()
        }  # searches omit vectors
        ids = sorted({int(r) for r in rows} - set(out))
        for i in range(0, len(ids), MAX_IN):
            part = ids[i : i + MAX_IN]
            for r in self._call(
                "query",
                self.head.chunks,
                filter=f"{self.visible} and row in {part}",
                output_fields=fields,
                limit=len(part),
            ):
                out[int(r["row"])] = r
        return out

    def fetch(self, rows: np.ndarray) -> tuple[dict[int, dict], dict[int, list[dict]]]:
        """Passages (with their article's title, source and date) and their places, by row."""
        found = self._rows(rows, CHUNK_FIELDS)
        chunks = {row: _chunk(r) for row, r in found.items()}
        mentions = {
            row: sorted(({**m, "row": row} for m in r["mentions"]), key=lambda m: m["start"])
            for row, r in found.items()
            if r["mentions"]
        }
        return chunks, mentions

    def texts(self, rows: np.ndarray) -> list[str]:
        found = self._rows(rows, ["row", "text"])
        return [found[int(r)]["text"] if int(r) in found else "" for r in rows]

    def facet_rows(self, rows: np.ndarray) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
        found = self._rows(rows, ["row", "article_id", "source", "published", "prefectures"])
        return [
            (r["article_id"], r["source"], r["published"] or None, tuple(sorted(r["prefectures"])))
            for r in found.values()
        ]

    def place_rows(self, code: str) -> list[tuple[int, str, str | None, str, int]]:
        """Visible passages naming a place (by its 5-digit code stem): (row, role, published, article id, ord)."""
        stem = code[:5]
        expr = f'{self.visible} and array_contains(codes, "{stem}")'
        out = []
        for r in self._iterate(
            self.head.chunks, expr, ["row", "mentions", "published", "article_id", "ord"]
        ):
            for m in r["mentions"]:
                if m["code"][:5] == stem:
                    out.append(
                        (
                            int(r["row"]),
                            m["role"],
                            r["published"] or None,
                            r["article_id"],
                            int(r["ord"]),
                        )
                    )
        return out

    def find_chunk(self, chunk_id: str) -> int | None:
        found = self._call(
            "query",
            self.head.chunks,
            filter=f"{self.visible} and id == {mh.literal([chunk_id])[1:-1]}",
            output_fields=["row"],
            limit=1,
        )
        return int(found[0]["row"]) if found else None

    def vector_of(self, row: int) -> np.ndarray:
        found = self._rows(np.array([row], np.int64), ["row", "dense"])
        if row not in found:
            raise KeyError(row)
        return np.array(found[row]["dense"], np.float32)

    # ------------------------------------------------------------------ articles

    def _iterate(self, collection: str, expr: str, fields: list[str]) -> list[dict]:
        from indexer.stores.milvus.writer import query_all

        return mc.guarded(self.store, query_all, self.client, collection, expr, fields)

    def find_article(self, article_id: str) -> tuple[None, dict] | None:
        """(None, the live article) or None; the first item stands where a FAISS commit point gives its part."""
        found = self._call(
            "query",
            self.names.articles,
            filter=f"{self.visible} and article_id == {mh.literal([article_id])[1:-1]}",
            output_fields=ARTICLE_FIELDS,
            limit=1,
        )
        return (None, _article(found[0])) if found else None

    def article_view(
        self, article_id: str
    ) -> tuple[dict, list[dict], dict[int, list[dict]]] | None:
        """A live article, its passages in order and their places by row."""
        found = self.find_article(article_id)
        if found is None:
            return None
        rows = self._iterate(
            self.head.chunks,
            f"{self.visible} and article_id == {mh.literal([article_id])[1:-1]}",
            ["row", "id", "ord", "start", "end", "heading", "text", "url", "mentions"],
        )
        rows.sort(key=lambda r: r["ord"])
        places = {
            int(r["row"]): sorted(r["mentions"], key=lambda m: m["start"])
            for r in rows
            if r["mentions"]
        }
        return found[1], rows, places

    def article_ids(self) -> set[str]:
        return {
            r["article_id"]
            for r in self._iterate(self.names.articles, self.visible, ["article_id"])
        }

    def articles_page(self, columns: tuple[str, ...], offset: int, limit: int) -> list[dict]:
        """Live articles newest first (undated last, then by title and id), one page of them."""
        fields = [c if c != "id" else "article_id" for c in columns]
        rows = [
            _article(r)
            for r in self._iterate(
                self.names.articles,
                self.visible,
                list(dict.fromkeys(fields + ["published", "title"])),
            )
        ]
        rows.sort(
            key=lambda r: (r["published"] is None, descending(r["published"]), r["title"], r["id"])
        )
        return rows[offset : offset + limit]

    def vocabulary_parts(self) -> tuple[VocabularyPart, ...]:
        """One part, this head's: its titles, headings and places, read again for each head (rows of a head never
        change, but Milvus has no immutable segments to share). No terms: Milvus keeps term ids, not words."""
        return (VocabularyPart(f"milvus:{self.names.meta}:{self.name}", None, self._vocabulary),)

    def _vocabulary(self) -> Vocabulary:
        found = self._iterate(
            self.head.chunks, self.visible, ["row", "ord", "title", "heading", "mentions"]
        )
        return Vocabulary(
            [(r["title"], int(r["row"])) for r in found if r["ord"] == 0],
            [(r["heading"], int(r["row"])) for r in found if r["heading"]],
            sorted(
                {
                    (m["code"], m["name"], m["prefecture"], int(r["row"]))
                    for r in found
                    for m in r["mentions"] or ()
                }
            ),
            [],
            np.zeros(1, np.int64),
            np.zeros(0, np.int64),
        )
