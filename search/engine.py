"""The search engine: one query in, the public JSON answer out, from the commit point being served."""

from __future__ import annotations

import functools
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.analysis import lexical, thesaurus
from indexer.model.base import Embedder, default_cache_dir
from indexer.places.gazetteer import Gazetteer
from indexer.stores import manifest
from indexer.stores.base import CommitView, Filters, LexicalHits
from indexer.stores.factory import open_store
from indexer.stores.spec import StoreSpec
from search import evidence, expansion, fusion
from search.didyoumean import Vocabulary, did_you_mean
from search.errors import IndexUnavailable, QueryError
from search.facets import FACET_DEPTH, facets, relevant_count
from search.filters import allowed_rows, validate
from search.highlight import query_terms
from search.kinds import answers, asked_kinds
from search.passages import ranked_passages, with_also_at
from search.places import checked_place, place_page
from search.ranking import rank_places
from search.similar import similar
from search.suggest import MAX_K as MAX_SUGGESTIONS
from search.suggest import Scored, Suggester, Suggestions, suggest

MAX_QUERY = 1000
MAX_K = 50
MIN_CANDIDATES = (
    100  # per side; the same for every k up to 50, so a page of 10 is the first 10 of a page of 50
)


@dataclass(frozen=True)
class QuerySide:
    """The half of a search that needs no query vector, worked out while the model embeds the query: the BM25
    hits (none in dense mode), the query's evidence words and their IDF weights (hybrid, Japanese), the kinds of
    government it asks for, the words its passages' highlights mark, its expansion and 「もしかして」."""

    hits: LexicalHits | None
    words: tuple[str, ...]
    weights: np.ndarray
    asked: frozenset[str]
    terms: frozenset[str]
    expansion: expansion.Expansion = expansion.NONE
    offer: dict | None = (
        None  # 「もしかして」 (search.didyoumean), also worked out during the forward pass
    )


@dataclass(frozen=True)
class Ranked:
    """Rows in answer order with their final, dense and lexical scores; the best candidates facets look at, and how
    many of them are relevant enough to count: the pool's scores and the weakest candidate's (`search.facets.relevant_count`)."""

    rows: np.ndarray
    scores: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    pool: np.ndarray
    pool_scores: np.ndarray
    floor: float  # the weakest candidate's final score


def clean_query(query: str | None) -> str:
    """The query with spaces folded; empty, too long or control characters are refused."""
    text = " ".join((query or "").split())
    if not text:
        raise QueryError("q", "検索語が空です", "the query is empty")
    if len(text) > MAX_QUERY:
        raise QueryError(
            "q",
            f"検索語が長すぎます（{len(text)} 文字、上限 {MAX_QUERY}）",
            f"the query is too long ({len(text)} characters, at most {MAX_QUERY})",
        )
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co") for c in text):
        raise QueryError(
            "q", "検索語に制御文字が含まれています", "the query contains control characters"
        )
    return text


def check_request(k: int, mode: str) -> None:
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QueryError(
            "k",
            f"件数 k は 1〜{MAX_K} の整数です: {k}",
            f"k must be an integer from 1 to {MAX_K}, not {k!r}",
        )
    if mode not in fusion.MODES:
        raise QueryError(
            "mode",
            f"不明な検索モードです: {mode}（{' / '.join(fusion.MODES)}）",
            f"unknown mode {mode!r}; use one of {', '.join(fusion.MODES)}",
        )


class Engine:
    """Serves searches from the current commit point and switches to a newer one between requests."""

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        gazetteer: Gazetteer | None = None,
        query_cache: int = 0,
        dense_weight: float = fusion.DENSE_WEIGHT,
        word_evidence: bool = True,
        store: StoreSpec | None = None,
        synonyms: bool = True,
        cache_dir: Path | None = None,
    ) -> None:
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within [0, 1], not {dense_weight}")
        self.source = open_store(store, index_dir).commits()
        self.index_dir = Path(index_dir)
        self.dense_weight = dense_weight
        self.word_evidence = word_evidence  # see fusion.Evidence
        self.thesaurus = (  # SudachiDict's synonyms and variants (None: only the own groups)
            thesaurus.ensure(thesaurus.table_path(cache_dir or default_cache_dir()))
            if synonyms
            else None
        )
        self.embedder = embedder
        self.gazetteer = gazetteer or Gazetteer.load()
        self.prefectures = {p.name for p in self.gazetteer.prefectures()}
        self._lock = threading.Lock()
        self._view: CommitView = self._open_current()
        self._failed: str | None = None
        self._calls: ThreadPoolExecutor | None = None  # started on the first search
        self._own: tuple[str, expansion.OwnGroups] | None = (
            None  # (commit point, its folded own groups)
        )
        self.suggester = Suggester()
        self._vocabulary: tuple[Suggestions, Vocabulary] | None = None
        self.query_vector = (
            functools.lru_cache(maxsize=query_cache)(self._query_vector)
            if query_cache
            else self._query_vector
        )

    def _query_vector(self, text: str) -> np.ndarray:
        """The query's embedding; evaluation turns on a per-engine cache so modes share it."""
        return self.embedder.encode_queries([text])[0]

    def _open(self, current) -> CommitView:
        """Open a commit, sharing what the served one already has open (segments never change)."""
        view = self.source.open(current, self._view)
        manifest.check_model(view.manifest, self.embedder.info)
        return view

    def _open_current(self) -> CommitView:
        """The first commit point, from __init__: none is served yet to share segments with."""
        view = self.source.open_current(None)
        manifest.check_model(view.manifest, self.embedder.info)
        return view

    @property
    def view(self) -> CommitView:
        return self._view

    def refresh(self) -> bool:
        """Load the newest commit point if `current` names another one; in-flight searches keep the old one.

        Commit points are compared by name, never by path: the one being served may be gone from disk (it
        stays readable through its open files). A commit point that failed to load is not retried until
        `current` moves again; the error is raised once, for the caller to log.
        """
        current = self.source.current()
        if current is None or current.name in (self._view.name, self._failed):
            return False
        with self._lock:
            if current.name == self._view.name:
                return False
            try:
                self._view = self._open(current)
            except BaseException:
                self._failed = current.name
                raise
            self._failed = None
        return True

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        filters: Filters = Filters(),
        expand: bool = True,
    ) -> dict:
        """The public JSON answer for one query; `expand`: widen the lexical side and the word evidence with
        synonyms and spelling variants (`expanded` lists the terms added)."""
        began = time.perf_counter()
        text = clean_query(query)
        check_request(k, mode)
        checked = validate(filters, self.prefectures)
        view = self._view
        allowed = allowed_rows(view, checked)
        pool = max(MIN_CANDIDATES, 2 * k)
        work: Callable[[], QuerySide] = functools.partial(
            self._query_side, view, text, pool, allowed, mode, expand
        )
        if mode != "lexical":  # a worker works it out during the forward pass (no GIL held there)
            work = self._workers().submit(work).result
        ranked, side = self._rank(view, text, k, mode, allowed, pool, work)
        passages = ranked_passages(
            view, ranked.rows, ranked.scores, ranked.dense, ranked.lexical, side.terms
        )
        return {
            "query": text,
            "took_ms": round((time.perf_counter() - began) * 1000, 1),
            "mode": mode,
            "generation": view.name,
            "passages": with_also_at(self.index_dir, passages),
            "municipalities": rank_places(passages, side.asked),
            "facets": facets(
                view.facet_rows(ranked.pool[: relevant_count(ranked.pool_scores, ranked.floor)])
            ),
            "expanded": list(side.expansion.terms),
            "did_you_mean": side.offer,
        }

    def suggestions(self, wait: bool = False) -> Suggestions | None:
        """The served commit point's suggestable entries (the last built while a newer one's are built)."""
        return self.suggester.for_view(self._view, wait)

    def prepare_suggestions(self) -> None:
        """Start building the served commit point's suggestions in the background (start-up, after a write)."""
        self.suggester.prepare(self._view)

    def vocabulary(self) -> Vocabulary | None:
        """「もしかして」's terms: those of the served commit point's suggestions, made once for each."""
        built = self.suggestions()
        if built is None:
            return None
        cached = self._vocabulary
        if cached is None or cached[0] is not built:
            cached = self._vocabulary = (built, Vocabulary.of(built.words))
        return cached[1]

    def suggest(self, prefix: str | None, k: int = 8, past: Scored | None = None) -> dict:
        """Suggestions for what is typed so far: titles, headings, municipalities, terms and past queries."""
        began = time.perf_counter()
        text = " ".join((prefix or "").split())
        if len(text) > MAX_QUERY:
            raise QueryError(
                "q",
                f"入力が長すぎます（{len(text)} 文字、上限 {MAX_QUERY}）",
                f"the prefix is too long ({len(text)} characters, at most {MAX_QUERY})",
            )
        if any(unicodedata.category(c) in ("Cc", "Cs", "Co") for c in text):
            raise QueryError(
                "q", "入力に制御文字が含まれています", "the prefix contains control characters"
            )
        if not isinstance(k, int) or not 1 <= k <= MAX_SUGGESTIONS:
            raise QueryError(
                "k",
                f"件数 k は 1〜{MAX_SUGGESTIONS} の整数です: {k}",
                f"k must be an integer from 1 to {MAX_SUGGESTIONS}, not {k!r}",
            )
        built = self.suggestions() if text else None
        found = suggest(text, k, built.parts if built else (), past) if text else []
        return {
            "query": text,
            "took_ms": round((time.perf_counter() - began) * 1000, 2),
            "generation": built.name if built else self._view.name,
            "suggestions": found,
        }

    def place_page(self, code: str, limit: int = 20, offset: int = 0) -> dict:
        """A municipality's or prefecture's page: the passages that name it, about it first, newest first."""
        place = checked_place(code, self.gazetteer)
        page = place_page(self._view, place, limit, offset, self.gazetteer.former_names(place.code))
        with_also_at(self.index_dir, page["passages"])
        return page

    def similar(self, passage_id: str, k: int = 10) -> dict:
        """The passages nearest to one passage, from other articles, with their municipalities ranked."""
        check_request(k, "hybrid")
        found = similar(self._view, passage_id, k)
        with_also_at(self.index_dir, [found["passage"], *found["passages"]])
        return found

    def _rank(
        self,
        view: CommitView,
        query: str,
        k: int,
        mode: str,
        allowed: np.ndarray | None,
        pool: int,
        query_side: Callable[[], QuerySide],
    ) -> tuple[Ranked, QuerySide]:
        """The best `k` rows and the facets' pool; `query_side` gives what needs no vector (maybe computed
        meanwhile by a worker)."""
        if getattr(allowed, "size", None) == 0:
            return Ranked(*(np.zeros(0, np.int64),) * 6, 0.0), query_side()
        vector = self.query_vector(query) if mode != "lexical" else None
        dense_rows = view.search_dense(vector, pool, allowed)[1] if vector is not None else None
        side = query_side()
        hits = side.hits
        lex_rows = hits.rows if hits is not None else None
        rows = np.unique(
            np.concatenate([r for r in (dense_rows, lex_rows) if r is not None])
        ).astype(np.int64)
        both = self._both if view.remote else _one_after_other
        dense, lex = both(
            lambda: view.dense_scores(vector, rows) if vector is not None else np.zeros(len(rows)),
            lambda: hits.score_of(rows) if hits is not None else np.zeros(len(rows)),
        )
        final = {"dense": dense, "lexical": lex}.get(mode)
        if final is None:
            final = self._hybrid(view, query, rows, dense, lex, side)
        final = np.asarray(final, dtype=np.float64)
        order = fusion.top(final, k)
        best = fusion.top(final, FACET_DEPTH)
        ranked = Ranked(
            rows[order],
            final[order],
            dense[order],
            lex[order],
            rows[best],
            final[best],
            float(final.min()) if final.size else 0.0,
        )
        return ranked, side

    def _query_side(
        self,
        view: CommitView,
        query: str,
        pool: int,
        allowed: np.ndarray | None,
        mode: str,
        expand: bool = True,
    ) -> QuerySide:
        """What needs no query vector: the query's expansion (lexical and hybrid), the BM25 hits, the query's
        evidence words with their IDF (hybrid), the kinds of government it asks for, and the words its passages'
        highlights mark (the added terms' too)."""
        empty = getattr(allowed, "size", None) == 0
        widened = (
            expansion.expand(
                query,
                self._own_groups(view),
                self.thesaurus,
                lambda terms: view.lexical_stats(terms).df,
            )
            if expand and mode != "dense" and not empty
            else expansion.NONE
        )
        extra = expansion.lexical_extra(widened, lexical.tokenize(query)) if widened.terms else None
        hits = (
            _lexical_hits(view, query, pool, allowed, extra)
            if mode != "dense" and not empty
            else None
        )
        use = mode == "hybrid" and self.word_evidence and fusion.has_japanese(query) and not empty
        found = evidence.query_words(query) if use else ()
        weights = (
            evidence.idf_weights(found, view.lexical_stats(list(found))) if found else np.zeros(0)
        )
        terms = query_terms(query).union(*(query_terms(t) for t in widened.terms))
        offer = did_you_mean(query, functools.partial(_held, view, widened), self.vocabulary)
        return QuerySide(hits, found, weights, asked_kinds(query), terms, widened, offer)

    def _own_groups(self, view: CommitView) -> expansion.OwnGroups:
        """The served commit point's own synonym groups, folded once per commit point."""
        cached = self._own
        if cached is None or cached[0] != view.name:
            cached = self._own = (view.name, expansion.OwnGroups.of(view.manifest.synonyms))
        return cached[1]

    def _workers(self) -> ThreadPoolExecutor:
        """Threads for the work that overlaps another: the lexical side, and a remote store's second call."""
        if self._calls is None:
            with self._lock:
                self._calls = self._calls or ThreadPoolExecutor(
                    max_workers=16, thread_name_prefix="jsearch-search"
                )
        return self._calls

    def _both(self, first: Callable[[], object], second: Callable[[], object]) -> tuple:
        """Two store calls at once: a remote store (Milvus) answers each over the network."""
        later = self._workers().submit(second)
        return first(), later.result()

    def _hybrid(
        self,
        view: CommitView,
        query: str,
        rows: np.ndarray,
        dense: np.ndarray,
        lex: np.ndarray,
        side: QuerySide,
    ) -> np.ndarray:
        """Dense and BM25 fused. For a Japanese query the best fused candidates also count how much of the query's
        words (by IDF), their adjacent pairs and its longest stretch they hold (word evidence, on unless turned
        off); when the query asks for a kind of government (「…できる区」), those about none weigh less."""
        fused = fusion.weighted(dense, lex, fusion.dense_weight_for(query, self.dense_weight))
        chosen = fusion.top(fused, fusion.EVIDENCE_DEPTH)
        if side.words and len(rows):
            alternates = [side.expansion.alternates(w) for w in side.words]
            parts = evidence.scores(
                query, side.words, side.weights, view.texts(rows[chosen]), alternates
            )
            fused = fusion.with_evidence(fused, chosen, parts)
        if not side.asked or not len(rows):
            return fused
        _, mentions = view.fetch(rows[chosen])
        return fusion.for_kind(
            fused,
            chosen,
            np.array([answers(mentions.get(int(r), []), side.asked) for r in rows[chosen]]),
        )


def _held(view: CommitView, widened: expansion.Expansion, words: list[str]) -> dict[str, int]:
    """Document frequencies for 「もしかして」: a word the expansion stood in for (an own group's 電申) counts as
    held, so no correction is offered for it."""
    df = dict(view.lexical_stats(words).df)
    return {w: df.get(w, 0) or int(bool(widened.alternates(w))) for w in words}


def _one_after_other(first: Callable[[], object], second: Callable[[], object]) -> tuple:
    return first(), second()


def _lexical_hits(
    view: CommitView, query: str, pool: int, allowed, extra: dict[str, float] | None = None
) -> LexicalHits:
    """The best rows by BM25; memory-mapped arrays damaged on disk become a clear 503, not a crash (a damaged
    offset can also ask numpy for an array of exabytes: MemoryError)."""
    try:
        return view.lexical_hits(query, pool, allowed, extra)
    except (IndexError, ValueError, MemoryError) as exc:
        raise IndexUnavailable(exc) from exc
