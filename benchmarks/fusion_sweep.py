"""Choose the fusion default on data: JSQuAD valid, dense and BM25 (two tokenizers) fused every way, one table.

    python benchmarks/fusion_sweep.py [--squad FILE] [--index-dir DIR]

Builds (or reuses) an index of the JSQuAD paragraphs, gathers the same candidates the engine gathers (dense
top 100 ∪ lexical top 100), then ranks them by each method and scores paragraphs (first chunk wins).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace

import bm25s
import numpy as np

from api.evaluation import read_eval_file
from indexer import build, lexical
from indexer.embedder import Embedder
from indexer.layout import IndexDir
from indexer.prepare import embed_text
from search import fusion, metrics
from search.generation import load

POOL = 100
SHARED = Path(__file__).resolve().parents[2] / "shared"


def sudachi_tokenizer():
    """SudachiPy mode C surface forms of the lexical form, plus the char n-grams (the 'both' variant)."""
    from sudachipy import Dictionary, SplitMode

    tok = Dictionary().create()

    def words(text: str) -> list[str]:
        norm = lexical.lexical_form(text)
        return [m.surface() for m in tok.tokenize(norm, SplitMode.C) if m.surface().strip()]
    return words


def chunk_texts(generation) -> tuple[list[str], list[str]]:
    rows = generation.conn.execute("SELECT c.text, c.heading, a.title, a.id FROM chunks c "
                                   "JOIN articles a ON a.id = c.article_id ORDER BY c.row").fetchall()
    texts = [embed_text(SimpleNamespace(title=r["title"]), SimpleNamespace(heading=r["heading"], text=r["text"]))
             for r in rows]
    return texts, [r["id"] for r in rows]


def bm25_index(texts: list[str], tokenize) -> tuple[bm25s.BM25, object]:
    index = bm25s.BM25()
    index.index([tokenize(t) or [""] for t in texts], show_progress=False)
    return index, tokenize


def bm25_scores(pair, query: str) -> np.ndarray:
    index, tokenize = pair
    ids = index.get_tokens_ids(tokenize(query))
    return index.get_scores_from_ids(ids).astype(np.float32) if ids else np.zeros(index.scores["num_docs"], np.float32)


def evaluate(ranked_articles: list[list[str]], relevant: list[dict]) -> dict:
    names = {"R@1": lambda r, g: metrics.recall_at(r, g, 1), "R@5": lambda r, g: metrics.recall_at(r, g, 5),
             "MRR@10": lambda r, g: metrics.mrr_at(r, g, 10), "nDCG@10": lambda r, g: metrics.ndcg_at(r, g, 10)}
    return {n: metrics.mean([f(r, g) for r, g in zip(ranked_articles, relevant)]) for n, f in names.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SHARED / "data" / "jsquad" / "valid-v1.3.json")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/jsearch-fusion-sweep"))
    args = parser.parse_args()
    embedder = Embedder.load()
    evalset = read_eval_file(args.squad)
    if IndexDir(args.index_dir).current() is None:
        build.apply(args.index_dir, build.Change(upsert=evalset.articles, replace_all=True), embedder, progress=True)
    generation = load(IndexDir(args.index_dir).require_current())
    texts, article_of = chunk_texts(generation)
    began = time.perf_counter()
    queries = [q.text for q in evalset.queries]
    qvecs = embedder.encode_queries(queries)
    print(f"{len(queries)} queries embedded in {time.perf_counter() - began:.1f} s; {len(texts)} chunks")
    sudachi = sudachi_tokenizer()
    lexicals = {"char12": bm25_index(texts, lexical.tokenize),
                "sudachiC": bm25_index(texts, sudachi),
                "char12+sudachiC": bm25_index(texts, lambda t: lexical.tokenize(t) + sudachi(t))}
    dense_scores, dense_rows = generation.dense.search(qvecs.astype(np.float32), POOL)
    weights = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
    methods: dict[str, list[list[str]]] = {}
    for q, query in enumerate(queries):
        full_dense = None
        for name, pair in lexicals.items():
            lex_all = bm25_scores(pair, query)
            lex_rows = fusion.top(lex_all, POOL)
            lex_rows = lex_rows[lex_all[lex_rows] > 0]
            rows = np.unique(np.concatenate([dense_rows[q][dense_rows[q] >= 0], lex_rows])).astype(np.int64)
            dense = generation.dense.reconstruct_batch(rows) @ qvecs[q]
            lex = lex_all[rows]
            ranked = lambda s: metrics.dedupe([article_of[rows[i]] for i in fusion.top(np.asarray(s, np.float64), 50)])  # noqa: E731
            methods.setdefault(f"lexical {name}", []).append(ranked(lex))
            if full_dense is None:
                full_dense = ranked(dense)
                methods.setdefault("dense", []).append(full_dense)
            methods.setdefault(f"rrf k=60 dense+{name}", []).append(ranked(fusion.rrf(dense, lex)))
            for w in weights:
                methods.setdefault(f"weighted w={w} dense+{name}", []).append(ranked(fusion.weighted(dense, lex, w)))
    relevant = [q.relevant for q in evalset.queries]
    print("| method | R@1 | R@5 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|")
    for name, ranked in methods.items():
        s = evaluate(ranked, relevant)
        print(f"| {name} | {s['R@1']:.3f} | {s['R@5']:.3f} | {s['MRR@10']:.3f} | {s['nDCG@10']:.3f} |")


if __name__ == "__main__":
    main()
