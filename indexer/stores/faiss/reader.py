"""One served commit point: its segments opened together, pinned, and searched as one index.

Rows are global: a segment's rows follow those of the segments listed before it. Every statistic a score uses
(BM25's row count, mean length and document frequencies) is summed over the live rows of all segments, and
dense candidates are merged over all segments, so a ranking does not depend on how rows are spread.
"""

from __future__ import annotations

import functools
import sqlite3
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.analysis import lexical
from indexer.stores import bm25, manifest
from indexer.stores.base import LexicalHits, Vocabulary, VocabularyPart, descending, top
from indexer.stores.faiss import commit, layout, postings, vectors
from indexer.stores.faiss.segment import Segment, live_mask, open_segment


@dataclass(frozen=True)
class Part:
    """A segment as one commit point sees it: where its rows start, and which are still live."""

    segment: Segment
    offset: int
    live: np.ndarray | None  # None: nothing deleted
    live_index: (
        np.ndarray | None
    )  # the live local rows (None: all), what an unfiltered search may return
    deleted: frozenset[str]
    live_count: int
    live_length: float

    @property
    def end(self) -> int:
        return self.offset + self.segment.rows

    @property
    def words(self) -> bool:
        return self.segment.words

    @property
    def conn(self) -> sqlite3.Connection:
        return self.segment.conn


def make_part(segment: Segment, offset: int, deleted: tuple[str, ...]) -> Part:
    """A segment's view in one commit point; what every query needs of its deletions is worked out once here."""
    live = live_mask(segment, deleted)
    lengths = np.asarray(segment.lexical.lengths, np.float64)
    if live is None:
        return Part(
            segment, offset, None, None, frozenset(deleted), segment.rows, float(lengths.sum())
        )
    index = np.flatnonzero(live)
    return Part(
        segment, offset, live, index, frozenset(deleted), len(index), float(lengths[live].sum())
    )


@dataclass(frozen=True)
class FaissCommit:
    """The segments of one commit point, opened read-only."""

    remote = False  # every read is in this process: the engine runs the two candidate searches one after the other
    path: Path
    manifest: manifest.Manifest
    parts: tuple[Part, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        """Rows in the global row space (deleted rows included; they never score)."""
        return self.parts[-1].end if self.parts else 0

    @property
    def live_rows(self) -> int:
        return sum(p.live_count for p in self.parts)

    def split(self, rows: np.ndarray) -> Iterator[tuple[Part, np.ndarray, np.ndarray]]:
        """(part, positions in `rows`, local rows) for each part that holds some of the global rows."""
        rows = np.asarray(rows, np.int64)
        for part in self.parts:
            inside = np.flatnonzero((rows >= part.offset) & (rows < part.end))
            if len(inside):
                yield part, inside, rows[inside] - part.offset

    def allowed_in(self, part: Part, allowed: np.ndarray | None) -> np.ndarray | None:
        """The part's local rows a search may return: live, and within the filter when there is one."""
        if allowed is None:
            return part.live_index
        local = allowed[(allowed >= part.offset) & (allowed < part.end)] - part.offset
        return local if part.live is None else local[part.live[local]]

    def search_dense(
        self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, global rows) by inner product over all segments' live rows."""
        score_parts, row_parts = [], []
        for part in self.parts:
            local = self.allowed_in(part, allowed)
            s, r = vectors.search(part.segment.dense, vector, k, local)
            score_parts.append(s)
            row_parts.append(r + part.offset)
        if not score_parts:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, rows = np.concatenate(score_parts), np.concatenate(row_parts)
        order = np.lexsort((rows, -scores))[:k]
        return scores[order], rows[order]

    def dense_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Inner products of the query with the stored vectors of these global rows."""
        out = np.zeros(len(rows), np.float32)
        for part, where, local in self.split(rows):
            out[where] = vectors.rows_of(part.segment.dense, local) @ vector
        return out

    def lexical_stats(self, terms: list[str]) -> bm25.Stats:
        """BM25 statistics over every live row of every segment."""
        n = self.live_rows
        length = sum(p.live_length for p in self.parts)
        df = {
            t: sum(postings.live_df(p.segment.lexical, t, p.live) for p in self.parts)
            for t in set(terms)
        }
        return bm25.Stats(n, length / n if n else 1.0, df)

    def search_lexical(
        self,
        query: str,
        allowed: np.ndarray | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """The BM25 score of every global row (0 for deleted rows and rows outside the filter): each segment's
        postings of the query terms gathered once, for the document frequencies and then the scores. `extra`:
        added terms (a query's synonyms) with their weight beside the typed terms' counts."""
        counted: dict[str, float] = dict(Counter(lexical.tokenize(query)))
        for term, weight in (extra or {}).items():
            counted[term] = counted.get(term, 0.0) + weight
        unique = list(counted)
        gathered = [postings.gather(p.segment.lexical, unique, p.live) for p in self.parts]
        df = sum(
            (np.bincount(owner, minlength=len(unique)) for owner, _, _ in gathered),
            np.zeros(len(unique), np.int64),
        )
        n = self.live_rows
        avg = sum(p.live_length for p in self.parts) / n if n else 1.0
        weights = bm25.idf(df, n) * np.array([counted[t] for t in unique], np.float64)
        scores = (
            np.concatenate(
                [
                    postings.weighted_scores(p.segment.lexical, g, weights, avg)
                    if n
                    else np.zeros(p.segment.lexical.size)
                    for p, g in zip(self.parts, gathered)
                ]
            )
            if self.parts
            else np.zeros(0)
        )
        if allowed is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[allowed] = True
            scores[~keep] = 0.0
        return scores.astype(np.float32)

    def lexical_hits(
        self,
        query: str,
        pool: int,
        allowed: np.ndarray | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> LexicalHits:
        """The `pool` best rows by BM25, scored over every row at once (the postings are in memory)."""
        scores = self.search_lexical(query, allowed, extra)
        best = top(scores, pool)
        return LexicalHits(best[scores[best] > 0], lambda rows: scores[rows])

    def restrict(self, filters) -> np.ndarray:
        """Live global rows that pass the filters (faiss/filters.py's SQL, run on each segment)."""
        from indexer.stores.faiss.filters import matching_rows

        return self.filter_rows(lambda conn: matching_rows(conn, filters))

    def filter_rows(self, where: Callable[[sqlite3.Connection], list[int]]) -> np.ndarray:
        """Live global rows that a per-segment SQL filter selects."""
        found = []
        for part in self.parts:
            local = np.array(where(part.conn), np.int64)
            if part.live is not None and len(local):
                local = local[part.live[local]]
            found.append(local + part.offset)
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def fetch(
        self, rows: np.ndarray
    ) -> tuple[dict[int, sqlite3.Row], dict[int, list[sqlite3.Row]]]:
        """Chunks (with their article's title, source and date) and mentions of the global rows, by row."""
        chunks: dict[int, sqlite3.Row] = {}
        mentions: dict[int, list[sqlite3.Row]] = {}
        for part, _, local in self.split(rows):
            marks, args = ",".join("?" * len(local)), [int(r) for r in local]
            words = (
                ("w.spans AS words", "LEFT JOIN words w ON w.row = c.row")
                if part.words
                else ("NULL AS words", "")
            )
            for r in part.conn.execute(
                f"SELECT c.*, a.title, a.source, a.published, {words[0]} FROM chunks c JOIN "
                f"articles a ON a.id = c.article_id {words[1]} WHERE c.row IN ({marks})",
                args,
            ):
                chunks[r["row"] + part.offset] = r
            for m in part.conn.execute(
                f"SELECT * FROM mentions WHERE row IN ({marks}) ORDER BY row, start", args
            ):
                mentions.setdefault(m["row"] + part.offset, []).append(m)
        return chunks, mentions

    def texts(self, rows: np.ndarray) -> list[str]:
        """The passage text of each global row, in the order given."""
        found: dict[int, str] = {}
        for part, _, local in self.split(rows):
            marks, args = ",".join("?" * len(local)), [int(r) for r in local]
            for row, text in part.conn.execute(
                f"SELECT row, text FROM chunks WHERE row IN ({marks})", args
            ):
                found[row + part.offset] = text
        return [found.get(int(r), "") for r in rows]

    def facet_rows(self, rows: np.ndarray) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
        """(article id, source, published, prefectures named) of each global row, for counting facets."""
        out = []
        for part, _, local in self.split(rows):
            marks, args = ",".join("?" * len(local)), [int(r) for r in local]
            prefectures: dict[int, set[str]] = {}
            for row, prefecture in part.conn.execute(
                f"SELECT row, prefecture FROM mentions WHERE row IN ({marks})", args
            ):
                prefectures.setdefault(row, set()).add(prefecture)
            out += [
                (a, s, p, tuple(sorted(prefectures.get(r, ()))))
                for r, a, s, p in part.conn.execute(
                    "SELECT c.row, a.id, a.source, a.published FROM chunks c JOIN articles a ON a.id = c.article_id "
                    f"WHERE c.row IN ({marks})",
                    args,
                )
            ]
        return out

    def place_rows(self, code: str) -> list[tuple[int, str, str | None, str, int]]:
        """Live rows naming a place (by its 5-digit code stem): (global row, role, published, article id, ord)."""
        found = []
        for part in self.parts:
            sql = (
                "SELECT m.row, m.role, a.published, c.article_id, c.ord FROM mentions m "
                "JOIN chunks c ON c.row = m.row JOIN articles a ON a.id = c.article_id WHERE substr(m.code, 1, 5) = ?"
            )
            for row, role, published, article, order in part.conn.execute(sql, (code[:5],)):
                if part.live is None or part.live[row]:
                    found.append((row + part.offset, role, published, article, order))
        return found

    def find_chunk(self, chunk_id: str) -> int | None:
        """The live global row of a passage id, or None."""
        for part in reversed(self.parts):
            hit = part.conn.execute("SELECT row FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
            if hit is not None and (part.live is None or part.live[hit[0]]):
                return int(hit[0]) + part.offset
        return None

    def vector_of(self, row: int) -> np.ndarray:
        """The stored dense vector of one global row."""
        for part, _, local in self.split(np.array([row], np.int64)):
            return vectors.rows_of(part.segment.dense, local)[0]
        raise KeyError(row)

    def find_article(self, article_id: str) -> tuple[Part, sqlite3.Row] | None:
        """The live article with this id and the part that holds it."""
        for part in reversed(self.parts):
            if article_id in part.deleted:
                continue
            row = part.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is not None:
                return part, row
        return None

    def article_view(
        self, article_id: str
    ) -> tuple[sqlite3.Row, list[sqlite3.Row], dict[int, list[sqlite3.Row]]] | None:
        """A live article, its passages in order and their places by (local) row."""
        found = self.find_article(article_id)
        if found is None:
            return None
        part, row = found
        chunks = part.conn.execute(
            "SELECT row, id, ord, start, end, heading, text, url FROM chunks WHERE article_id = ? "
            "ORDER BY ord",
            (article_id,),
        ).fetchall()
        places: dict[int, list[sqlite3.Row]] = {}
        marks = ",".join("?" * len(chunks))
        for m in (
            part.conn.execute(
                f"SELECT * FROM mentions WHERE row IN ({marks}) ORDER BY row, start",
                [c["row"] for c in chunks],
            )
            if chunks
            else ()
        ):
            places.setdefault(m["row"], []).append(m)
        return row, chunks, places

    def article_ids(self) -> set[str]:
        """Ids of every live article."""
        return {
            r[0]
            for p in self.parts
            for r in p.conn.execute("SELECT id FROM articles")
            if r[0] not in p.deleted
        }

    def articles_page(self, columns: tuple[str, ...], offset: int, limit: int) -> list[sqlite3.Row]:
        """Live articles newest first (undated last, then by title and id), one page of them."""
        rows: list[sqlite3.Row] = []
        for part in self.parts:
            gone = list(part.deleted)
            sql = (
                f"SELECT {', '.join(columns)}, published IS NULL AS undated FROM articles WHERE id NOT IN "
                f"({','.join('?' * len(gone))}) ORDER BY undated, published DESC, title, id LIMIT ?"
            )
            rows += part.conn.execute(sql, [*gone, offset + limit]).fetchall()
        rows.sort(key=lambda r: (r["undated"], descending(r["published"]), r["title"], r["id"]))
        return rows[offset : offset + limit]

    def vocabulary_parts(self) -> tuple[VocabularyPart, ...]:
        """Each segment's suggestable vocabulary, read once per segment (segments never change)."""
        return tuple(
            VocabularyPart(str(p.segment.path), p.live, functools.partial(vocabulary, p.segment))
            for p in self.parts
        )


def vocabulary(segment: Segment) -> Vocabulary:
    """A segment's titles (with their article's first row), headings, places named and lexical terms."""
    conn = segment.conn
    titles = conn.execute(
        "SELECT a.title, MIN(c.row) FROM articles a JOIN chunks c ON c.article_id = a.id GROUP BY a.id"
    ).fetchall()
    headings = conn.execute("SELECT heading, row FROM chunks WHERE heading != ''").fetchall()
    places = conn.execute("SELECT DISTINCT code, name, prefecture, row FROM mentions").fetchall()
    lex = segment.lexical
    return Vocabulary(
        [(t, int(r)) for t, r in titles],
        [(h, int(r)) for h, r in headings],
        [(c, n, p, int(r)) for c, n, p, r in places],
        sorted(lex.vocab, key=lex.vocab.__getitem__),
        np.asarray(lex.indptr),
        np.asarray(lex.rows),
    )


def load(path: Path, opened: Mapping[str, Segment] | None = None) -> FaissCommit:
    """Open a commit point (its manifest is checked first) and pin it while it is referenced; segments already
    open in `opened` are shared, not opened again (they are immutable)."""
    fd = _pin(path)
    try:
        generation = _open(path, opened or {})
    except BaseException:
        layout.unpin(fd) if fd is not None else None
        raise
    if fd is not None:
        weakref.finalize(generation, layout.unpin, fd)
    return generation


def _pin(path: Path) -> int | None:
    try:
        return layout.pin(path)
    except FileNotFoundError:
        if not path.is_dir():
            raise
        return None  # built before pins existed: served as before, just not protected
    except PermissionError:
        return None


def _open(path: Path, opened: Mapping[str, Segment]) -> FaissCommit:
    info = manifest.read(path)
    if info.lexical_tokenizer != lexical.TOKENIZER:
        raise manifest.IndexMismatch(
            f"索引の語の区切り方（{info.lexical_tokenizer}）が古いです。jsearch index --rebuild で作り直してください",
            f"the index was tokenised as {info.lexical_tokenizer}, not {lexical.TOKENIZER}; rebuild it with "
            "`jsearch index --rebuild`",
        )
    segments_dir = layout.IndexDir(path.parent.parent).segments
    parts, offset = [], 0
    for entry in commit.entries_of(info):
        segment = opened.get(entry.name) or open_segment(segments_dir / entry.name)
        parts.append(make_part(segment, offset, entry.deleted))
        offset += segment.rows
    return FaissCommit(path, info, tuple(parts))
