"""The dense side of the index: FAISS over L2-normalised vectors, exact when small, IVF when large.

Measured by benchmarks/scale.py (2 cores, 384-d multilingual-e5-small vectors, 500 real queries): exact
search costs about 0.16 µs per row and query (8 ms at 50k rows, 16 ms at 100k, 160 ms at 1M), so from
APPROX_FROM rows on the engine builds an inverted file (IVFFlat, 4·√N lists, IVF_NPROBE probed): recall@10
against exact 0.978 / 0.981 / 0.998 at 50k / 100k / 1M rows, at 1.0 / 1.7 / 6.3 ms per query. HNSW (M=32,
efConstruction 80) was the other candidate: about 3× slower to build and, with many near-duplicates at 1M rows,
far below 0.95 (0.56 at efSearch 128, 0.79 at 512); it can still be built explicitly with kind="hnsw".
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

FILE = "vectors.faiss"
KINDS = ("flat", "ivf", "hnsw")
APPROX_FROM = 50_000
APPROX_KIND = "ivf"

IVF_LISTS_PER_SQRT = 4  # nlist = 4·√N (FAISS guideline: 4–16·√N)
IVF_MIN_TRAIN_PER_LIST = 39  # FAISS k-means wants ≥ 39 training points per centroid
IVF_TRAIN_PER_LIST = 40  # training sample: 40 points per list (or every row when fewer)
IVF_TRAIN_ITERATIONS = 10
IVF_NPROBE = 160
FILTER_BOOST_MAX = 4  # a filtered search widens nprobe / efSearch up to 4× (see _params)

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128

EXACT_ALLOWED_MAX = (
    256  # a filter this small (one town's chunks) is scored exactly from the stored vectors
)


def kind_for(count: int) -> str:
    """The FAISS index type for a collection of this size."""
    return APPROX_KIND if count >= APPROX_FROM else "flat"


def ivf_lists(count: int) -> int:
    """Inverted lists for an IVF index over `count` rows."""
    return max(
        1, min(round(IVF_LISTS_PER_SQRT * math.sqrt(count)), count // IVF_MIN_TRAIN_PER_LIST)
    )


def build(vectors: np.ndarray, kind: str | None = None) -> faiss.Index:
    """An inner-product index over the vectors; row i gets id i."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kind = kind or kind_for(len(vectors))
    dim = vectors.shape[1]
    index: faiss.Index
    if kind == "ivf" and len(vectors):
        index = _trained_ivf(vectors)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind in KINDS:
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"unknown index kind {kind!r}; expected one of {KINDS}")
    if len(vectors):
        index.add(vectors)
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()  # the engine reads candidates' vectors back with reconstruct_batch
    return index


def _trained_ivf(vectors: np.ndarray) -> faiss.IndexIVFFlat:
    nlist = ivf_lists(len(vectors))
    index = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = IVF_TRAIN_ITERATIONS
    index.cp.seed = 1234
    sample = min(len(vectors), nlist * IVF_TRAIN_PER_LIST)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), sample, replace=False))
    index.train(vectors[rows])
    index.nprobe = min(IVF_NPROBE, nlist)
    return index


def save(index: faiss.Index, directory: Path) -> None:
    faiss.write_index(index, str(directory / FILE))


def load(directory: Path) -> faiss.Index:
    index = faiss.read_index(str(directory / FILE))
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif isinstance(index, faiss.IndexIVF):
        index.nprobe = min(IVF_NPROBE, index.nlist)
    return index


SEARCH_THREADS = 1  # OpenMP threads of FAISS in a process that serves searches


def serve_searches() -> None:
    """One OpenMP thread for FAISS (process-wide): a query is one vector, and each search runs beside the model's
    threads, the lexical side and other requests. Measured on a flat index of 20,000 rows: 1.2 ms a search with
    one thread against 1.7 with two on an idle machine, and 8.4 ms with two beside the lexical side's thread."""
    faiss.omp_set_num_threads(SEARCH_THREADS)


def search(
    index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, rows) for one query vector, only among `allowed` rows when given.

    With `allowed` holding at least k rows, exactly k allowed rows come back: a filter of at most
    EXACT_ALLOWED_MAX rows is scored exactly; a larger one goes through a FAISS IDSelector(Bitmap), and if the
    approximate pass finds fewer than k allowed rows the search is redone exhaustively among them.
    """
    k = min(k, index.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, rows = index.search(query, k)
        return _kept(scores[0], rows[0])
    allowed = np.ascontiguousarray(allowed, dtype=np.int64)
    if len(allowed) <= EXACT_ALLOWED_MAX:
        return _exact_among(index, query[0], k, allowed)
    selector, _bits = _selector(
        index.ntotal, allowed
    )  # _bits: the bitmap must outlive the searches
    scores, rows = index.search(query, k, params=_params(index, selector, len(allowed)))
    if (rows[0] >= 0).sum() < k:
        scores, rows = _exhaustive(index, query, k, selector)
    return _kept(scores[0], rows[0])


def _selector(ntotal: int, allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray]:
    """A bitmap selector: ~0.2 ms to make for 50k of 1M rows where IDSelectorBatch's hash set takes ~5 ms,
    and a cheaper membership test in the scan."""
    mask = np.zeros(ntotal, dtype=bool)
    mask[allowed[(allowed >= 0) & (allowed < ntotal)]] = True
    bits = np.packbits(mask, bitorder="little")
    return faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits


def _params(index: faiss.Index, selector: faiss.IDSelector, allowed: int) -> faiss.SearchParameters:
    # The k best allowed rows lie deeper than the k best overall (about rank k·N/allowed), so search wider;
    # only allowed rows are scored, so extra IVF lists cost little. Cube root: ×2.7 for a 5% filter.
    boost = min(FILTER_BOOST_MAX, max(1.0, (index.ntotal / allowed) ** (1 / 3)))
    if isinstance(index, faiss.IndexHNSWFlat):
        # SearchParametersHNSW exists in faiss but is missing from its stubs
        return faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
            sel=selector, efSearch=math.ceil(index.hnsw.efSearch * boost)
        )
    if isinstance(index, faiss.IndexIVF):
        # faiss's stubs declare no keyword arguments; its SearchParameters take fields as keywords
        return faiss.SearchParametersIVF(  # type: ignore[call-arg]
            sel=selector, nprobe=min(index.nlist, math.ceil(index.nprobe * boost))
        )
    return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]  # see above


def _exhaustive(
    index: faiss.Index, query: np.ndarray, k: int, selector: faiss.IDSelector
) -> tuple[np.ndarray, np.ndarray]:
    """Exact search among the selected rows: every IVF list, or the flat storage under HNSW."""
    if isinstance(index, faiss.IndexIVF):
        return index.search(
            query,
            k,
            params=faiss.SearchParametersIVF(  # type: ignore[call-arg]  # see _params
                sel=selector, nprobe=index.nlist
            ),
        )
    if isinstance(index, faiss.IndexHNSWFlat):
        index = faiss.downcast_index(index.storage)
    return index.search(
        query,
        k,
        params=faiss.SearchParameters(sel=selector),  # type: ignore[call-arg]  # see _params
    )


def _exact_among(
    index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    scores = index.reconstruct_batch(allowed) @ query
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return scores[top].astype(np.float32), allowed[top]


def _kept(scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = rows >= 0
    return scores[keep], rows[keep]


def rows_of(index: faiss.Index, rows: np.ndarray) -> np.ndarray:
    """The stored vectors of the given rows (exact for flat and IVFFlat, whose direct map is kept)."""
    if not len(rows):
        return np.zeros((0, index.d), np.float32)
    return index.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))
