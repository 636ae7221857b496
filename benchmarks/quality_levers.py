"""Search-quality levers measured on JSQuAD valid, each alone and combined, with weights chosen by 5-fold CV.

    .venv/bin/python benchmarks/quality_levers.py [--squad FILE] [--work DIR] [--folds 5]

Builds (or reuses) an index of the JSQuAD valid paragraphs with the product's own build, gathers the candidates
the engine gathers (dense top 100 ∪ lexical top 100), and for each candidate computes one feature per lever:
dense cosine, the product's BM25 (title + heading + text), BM25 of the title alone and of the passage alone,
BM25 over SudachiPy normalised forms, query-word coverage, query-word-pair proximity, lexical PRF (RM3-style
expansion from the top 3 fused passages) and dense PRF (Rocchio on the top 3 passages' vectors). Candidates are
ranked by a weighted sum of min-max/max-scaled features; paragraphs are scored by their best passage (as the
engine's eval does). Weights are chosen by coordinate ascent on nDCG@10 over the training folds (GroupKFold by
Wikipedia title, so no title's questions are on both sides) and reported on each held-out fold.
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
import zlib
from collections import Counter
from pathlib import Path

import kit
import numpy as np

from indexer.analysis import lexical
from indexer.model.base import Embedder
from indexer.stores.faiss import vectors
from indexer.stores.faiss.layout import IndexDir
from indexer.stores.faiss.reader import load
from indexer.write import changes, indexing
from search import fusion, metrics
from search.evaluation import read_eval_file

POOL = 100
K1, B = 1.5, 0.75


# --- gathering -----------------------------------------------------------------------------------


def gather(squad: Path, work: Path) -> dict:
    """Candidates, their dense and BM25 scores and vectors, the rows' texts; cached in `work`."""
    cache = work / "candidates.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    embedder = Embedder.load()
    evalset = read_eval_file(squad)
    index = work / "index"
    if IndexDir(index).current() is None:
        indexing.apply(
            index,
            changes.Change(upsert=evalset.articles, replace_all=True),
            embedder,
            progress=True,
        )
    generation = load(IndexDir(index).require_current())
    chunks, _ = generation.fetch(np.arange(generation.size))
    rows = [chunks[r] for r in range(generation.size)]
    matrix = np.concatenate(
        [vectors.rows_of(p.segment.dense, np.arange(p.segment.rows)) for p in generation.parts]
    )
    queries = [q.text for q in evalset.queries]
    qvecs = embedder.encode_queries(queries)
    cands = []
    for q, query in enumerate(queries):
        lex_all = generation.search_lexical(query)
        lex_rows = fusion.top(lex_all, POOL)
        lex_rows = lex_rows[lex_all[lex_rows] > 0]
        dense_rows = generation.search_dense(qvecs[q], POOL)[1]
        union = np.unique(np.concatenate([dense_rows, lex_rows])).astype(np.int64)
        cands.append((union, matrix[union] @ qvecs[q], lex_all[union]))
    data = {
        "queries": queries,
        "relevant": [q.relevant for q in evalset.queries],
        "qvecs": qvecs,
        "matrix": matrix,
        "cands": cands,
        "text": [r["text"] for r in rows],
        "title": [r["title"] for r in rows],
        "heading": [r["heading"] for r in rows],
        "article": [r["article_id"] for r in rows],
    }
    cache.write_bytes(pickle.dumps(data))
    return data


# --- lexical fields ------------------------------------------------------------------------------


def _sudachi():
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(SplitMode.C)

    def morphs(text: str):
        return [
            m
            for m in tokenizer.tokenize(lexical.lexical_form(text))
            if any(c.isalnum() for c in m.surface())
        ]

    return morphs


CONTENT_POS = ("名詞", "動詞", "形容詞", "副詞", "形状詞", "接頭辞", "接尾辞")


class Field:
    """BM25 over one text per row, tokenised once."""

    def __init__(self, docs: list[list[str]]) -> None:
        self.tf = [Counter(d) for d in docs]
        self.length = np.array([len(d) for d in docs], np.float64)
        self.avg = float(self.length.mean()) or 1.0
        df = Counter(t for c in self.tf for t in c)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(
        self, terms, rows: np.ndarray, weights: dict | None = None, k1: float = K1, b: float = B
    ) -> np.ndarray:
        out = np.zeros(len(rows))
        for i, r in enumerate(rows):
            tf, norm = self.tf[r], k1 * (1 - b + b * self.length[r] / self.avg)
            for t in terms:
                f = tf.get(t)
                if f:
                    out[i] += (
                        self.idf[t] * f * (k1 + 1) / (f + norm) * (weights[t] if weights else 1.0)
                    )
        return out


def _kinds(text: str) -> tuple[list[str], list[str], list[str]]:
    """The product's lexical tokens split by kind: character unigrams, bigrams, SudachiPy words."""
    norm = lexical.lexical_form(text)
    grams = lexical.char_grams(norm)
    return [g for g in grams if len(g) == 1], [g for g in grams if len(g) == 2], lexical.words(norm)


def features(data: dict) -> tuple[list[str], list[np.ndarray]]:
    """One feature matrix (candidates × features) per query."""
    morphs = _sudachi()
    text_m = [morphs(t) for t in data["text"]]
    title_of = {t: morphs(t) for t in set(data["title"])}
    norm_tokens = [[m.normalized_form() for m in ms] for ms in text_m]
    fields = {
        "title": Field([lexical.tokenize(t) for t in data["title"]]),
        "body": Field([lexical.tokenize(t) for t in data["text"]]),
        "norm": Field(
            [
                nt + [m.normalized_form() for m in title_of[t]]
                for nt, t in zip(norm_tokens, data["title"])
            ]
        ),
    }
    words = [set(m.surface() for m in ms) | set(n) for ms, n in zip(text_m, norm_tokens)]
    joined = [lexical.lexical_form(t) for t in data["text"]]
    kinds = [
        _kinds(ti + "\n" + (h + "\n" if h and h != ti else "") + tx)
        for ti, h, tx in zip(data["title"], data["heading"], data["text"])
    ]
    by_kind = [Field([k[j] for k in kinds]) for j in range(3)]
    together = Field([k[0] + k[1] + k[2] for k in kinds])
    names = [
        "dense",
        "bm25",
        "title",
        "body",
        "norm",
        "coverage",
        "proximity",
        "prf_lex",
        "prf_dense",
        "uni",
        "bi",
        "word",
        "bm25_b03",
        "bm25_k12",
    ]
    out = []
    for q, (query, (rows, dense, bm25)) in enumerate(zip(data["queries"], data["cands"])):
        qm = [m for m in morphs(query) if m.part_of_speech()[0] in CONTENT_POS]
        qwords = list(dict.fromkeys(m.surface() for m in qm))
        qnorm = [m.normalized_form() for m in morphs(query)]
        qtok = lexical.tokenize(query)
        coverage = np.array(
            [
                sum((w in words[r]) or (w in joined[r]) for w in qwords) / max(len(qwords), 1)
                for r in rows
            ]
        )
        pairs = [a + b for a, b in zip(qwords, qwords[1:])]
        proximity = np.array(
            [sum(p in joined[r] for p in pairs) / max(len(pairs), 1) for r in rows]
        )
        base = fusion.weighted(dense, bm25)
        top3 = rows[fusion.top(base, 3)]
        prf_lex = _rm3(fields["body"], qtok, top3, rows)
        centroid = data["matrix"][top3].mean(axis=0)
        prf_dense = data["matrix"][rows] @ centroid
        qk = _kinds(query)
        cols = [
            dense,
            bm25,
            fields["title"].score(qtok, rows),
            fields["body"].score(qtok, rows),
            fields["norm"].score(qnorm, rows),
            coverage,
            proximity,
            prf_lex,
            prf_dense,
            *(f.score(t, rows) for f, t in zip(by_kind, qk)),
            together.score(sum(qk, []), rows, k1=1.5, b=0.3),
            together.score(sum(qk, []), rows, k1=1.2, b=0.75),
        ]
        out.append(np.stack([np.asarray(c, np.float64) for c in cols], axis=1))
        if q % 500 == 0:
            print(f"  features {q}/{len(data['queries'])}", flush=True)
    return names, out


def engine_evidence(data: dict, work: Path) -> np.ndarray:
    """Per query, the engine's own word evidence (search/evidence.py): IDF-weighted coverage, adjacent pairs and
    the phrase share (the longest stretch of the query a passage writes out)."""
    from indexer.analysis.normalize import lexical_form
    from search import evidence

    generation = load(IndexDir(work / "index").require_current())
    forms = [lexical_form(t) for t in data["text"]]
    out = []
    for query, (rows, _, _) in zip(data["queries"], data["cands"]):
        words = evidence.query_words(query)
        weights = evidence.idf_weights(words, generation.lexical_stats(list(words)))
        asked = lexical_form(query)
        out.append(
            np.stack(
                [
                    [evidence.coverage(words, weights, forms[r]) for r in rows],
                    [evidence.proximity(words, forms[r]) for r in rows],
                    [evidence.phrase(asked, forms[r]) for r in rows],
                ],
                axis=1,
            )
        )
    return out


def engine_row(data: dict, feats: list[np.ndarray], names: list[str]) -> dict:
    """The engine's default as it runs (search/fusion.py): dense 0.5 + BM25 0.5 + the evidence weights, evidence
    read for the EVIDENCE_DEPTH best fused candidates only."""
    w = np.zeros(len(names))
    ev = fusion.EVIDENCE
    for name, value in (
        ("dense", 0.5),
        ("bm25", 0.5),
        ("cov_idf", ev.coverage),
        ("pairs", ev.pairs),
        ("phrase", ev.phrase),
    ):
        w[names.index(name)] = value
    cols = [names.index(n) for n in ("cov_idf", "pairs", "phrase")]
    limited = []
    for f in feats:
        f = f.copy()
        fused = f[:, names.index("dense")] * 0.5 + f[:, names.index("bm25")] * 0.5
        outside = np.setdiff1d(np.arange(len(f)), fusion.top(fused, fusion.EVIDENCE_DEPTH))
        f[np.ix_(outside, cols)] = 0.0
        limited.append(f)
    return ndcg_rows(data, limited, w, np.arange(len(data["queries"])))


def _rm3(
    field: Field, qtok: list[str], feedback: np.ndarray, rows: np.ndarray, terms: int = 20
) -> np.ndarray:
    """BM25 of the expansion terms (tf·idf-weighted over the feedback passages), the query's own excluded."""
    weight: Counter = Counter()
    for r in feedback:
        total = sum(field.tf[r].values()) or 1
        for t, f in field.tf[r].items():
            if len(t) > 1:
                weight[t] += f / total * field.idf[t]
    own = set(qtok)
    chosen = {t: w for t, w in weight.most_common(terms + len(own)) if t not in own}
    chosen = dict(list(chosen.items())[:terms])
    top = max(chosen.values(), default=1.0)
    return field.score(list(chosen), rows, {t: w / top for t, w in chosen.items()})


# --- ranking and metrics ------------------------------------------------------------------------


def scale(column: np.ndarray, name: str) -> np.ndarray:
    return (
        fusion.minmax(column)
        if name in ("dense", "prf_dense")
        else fusion.by_max(np.maximum(column, 0))
    )


def scaled(names: list[str], feats: list[np.ndarray]) -> list[np.ndarray]:
    return [np.stack([scale(f[:, j], n) for j, n in enumerate(names)], axis=1) for f in feats]


def ndcg_rows(data: dict, feats: list[np.ndarray], weights: np.ndarray, idx: np.ndarray) -> dict:
    """Mean R@1, R@5, MRR@10, nDCG@10 over the queries `idx` with candidates ranked by feats @ weights."""
    got = {"R@1": [], "R@5": [], "MRR@10": [], "nDCG@10": []}
    for q in idx:
        rows = data["cands"][q][0]
        order = fusion.top(feats[q] @ weights, 50)
        ranked = metrics.dedupe([data["article"][rows[i]] for i in order])
        rel = data["relevant"][q]
        got["R@1"].append(metrics.recall_at(ranked, rel, 1))
        got["R@5"].append(metrics.recall_at(ranked, rel, 5))
        got["MRR@10"].append(metrics.mrr_at(ranked, rel, 10))
        got["nDCG@10"].append(metrics.ndcg_at(ranked, rel, 10))
    return {k: float(np.mean(v)) for k, v in got.items()}


GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def fit(
    data: dict, feats: list[np.ndarray], names: list[str], use: list[str], idx: np.ndarray
) -> np.ndarray:
    """Coordinate ascent on nDCG@10 over the queries `idx`: dense starts at 0.5 (and BM25 at 0.5 unless a split
    BM25 replaces it), each lever's weight from GRID, 2 sweeps."""
    w = np.zeros(len(names))
    w[names.index("dense")] = 0.5
    if not set(use) & {"uni", "bi", "word", "bm25_b03", "bm25_k12"}:
        w[names.index("bm25")] = 0.5
    best = ndcg_rows(data, feats, w, idx)["nDCG@10"]
    for _ in range(2):
        for name in use:
            j = names.index(name)
            for value in GRID:
                trial = w.copy()
                trial[j] = value
                got = ndcg_rows(data, feats, trial, idx)["nDCG@10"]
                if got > best + 1e-6:
                    best, w = got, trial
    return w


def folds(data: dict, k: int) -> list[np.ndarray]:
    """Query indices per fold, grouped by the relevant paragraph's title (crc32, so the split is fixed)."""
    title_of = dict(zip(data["article"], data["title"]))
    titles = [title_of[next(iter(r))] for r in data["relevant"]]
    group = np.array([zlib.crc32(t.encode()) % k for t in titles])
    return [np.flatnonzero(group == f) for f in range(k)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=kit.JSQUAD)
    parser.add_argument("--work", type=Path, default=Path("/tmp/jsearch-quality-levers"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--levers", help="only these levers, e.g. 'phrase;cov_idf,pairs,phrase' (default: all)"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    data = gather(args.squad, args.work)
    print(f"gathered {len(data['queries'])} queries in {time.perf_counter() - began:.0f} s")
    fcache = args.work / "features.pkl"
    if fcache.exists():
        names, raw = pickle.loads(fcache.read_bytes())
    else:
        names, raw = features(data)
        fcache.write_bytes(pickle.dumps((names, raw)))
    extra = engine_evidence(data, args.work)
    names = names + ["cov_idf", "pairs", "phrase"]
    raw = [np.concatenate([r, e], axis=1) for r, e in zip(raw, extra)]
    feats = scaled(names, raw)
    everything = np.arange(len(data["queries"]))
    print("| lever | R@1 | R@5 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|")

    def row(label, w):  # noqa: E306
        s = ndcg_rows(data, feats, w, everything)
        print(
            f"| {label} | {s['R@1']:.4f} | {s['R@5']:.4f} | {s['MRR@10']:.4f} | {s['nDCG@10']:.4f} |",
            flush=True,
        )

    for name in ("dense", "bm25"):
        row(f"{name} alone", np.eye(len(names))[names.index(name)])
    base = np.zeros(len(names))
    base[:2] = 0.5
    row("hybrid today (0.5/0.5)", base)
    splits = folds(data, args.folds)
    levers = [
        ["bm25"],
        ["title"],
        ["body"],
        ["norm"],
        ["coverage"],
        ["proximity"],
        ["prf_lex"],
        ["prf_dense"],
        ["uni", "bi", "word"],
        ["bm25_b03"],
        ["bm25_k12"],
        ["bm25", "title", "norm", "coverage", "proximity", "prf_lex", "prf_dense"],
        ["cov_idf", "pairs"],
        ["phrase"],
        ["cov_idf", "pairs", "phrase"],  # the engine's word evidence
        ["dense", "bm25", "cov_idf", "pairs", "phrase"],
    ]
    if args.levers:
        levers = [group.split(",") for group in args.levers.split(";")]
    s = engine_row(data, feats, names)
    print(
        f"| engine default (search/fusion.py, evidence on the {fusion.EVIDENCE_DEPTH} best) | {s['R@1']:.4f} | "
        f"{s['R@5']:.4f} | {s['MRR@10']:.4f} | {s['nDCG@10']:.4f} |",
        flush=True,
    )
    for use in levers:
        per_fold, pooled = [], 0.0
        for f, held in enumerate(splits):
            train = np.concatenate([s for g, s in enumerate(splits) if g != f])
            w = fit(data, feats, names, use, train)
            per_fold.append(ndcg_rows(data, feats, w, held)["nDCG@10"])
            pooled += per_fold[-1] * len(held) / len(everything)
        w_all = fit(data, feats, names, use, everything)
        label = (
            "+".join(use)
            + " (held-out folds "
            + " ".join(f"{x:.3f}" for x in per_fold)
            + f"; pooled {pooled:.4f})"
        )
        row(label + " w=" + ",".join(f"{n}:{v:g}" for n, v in zip(names, w_all) if v), w_all)


if __name__ == "__main__":
    main()
