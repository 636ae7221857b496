"""`jsearch eval`: read a dev-queries or SQuAD-format file, run every mode, compute the metrics."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from corpus.article import Article, article_id
from search import metrics

K_PASSAGES = 50


class EvalFileError(UserError):
    """An evaluation file this command cannot read."""

    code, field = "invalid_eval_file", "file"

    def __init__(self, path: Path, ja: str, en: str) -> None:
        super().__init__(f"{path}: {ja}", f"{path}: {en}")


@dataclass(frozen=True)
class EvalQuery:
    """A query, the graded ids a good answer ranks first and, optionally, anchors of the passages that answer it
    (short substrings of the article, NFKC: a returned passage answers when its text holds one)."""

    id: str
    text: str
    relevant: dict[str, int]
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalSet:
    """Queries judged on municipalities (`dev`) or on source paragraphs (`squad`)."""

    kind: str
    queries: tuple[EvalQuery, ...]
    articles: tuple[Article, ...] = ()


def place_key(prefecture: str, name: str) -> str:
    """The id of a place in the dev-queries format; a prefecture has an empty name."""
    return f"{prefecture}|{name}"


def anchor_text(text: str) -> str:
    """How an anchor and a passage's text are compared: NFKC, as the index reads articles."""
    return unicodedata.normalize("NFKC", text)


def _anchors(item: dict, i: int, path: Path) -> tuple[str, ...]:
    """The optional `passages` of a dev query: each a string, or {"article": file name, "text": anchor}."""
    found = []
    for passage in item.get("passages", []):
        text = passage.get("text") if isinstance(passage, dict) else passage
        if not isinstance(text, str) or not text.strip():
            raise EvalFileError(
                path,
                f"{i} 番目の質問の passages には空でない text が必要です",
                f"query {i}: every passage needs a non-empty text",
            )
        found.append(anchor_text(text))
    return tuple(found)


def _dev(data: dict, path: Path) -> EvalSet:
    queries = []
    for i, item in enumerate(data["queries"]):
        if not isinstance(item.get("q"), str) or not isinstance(item.get("relevant"), list):
            raise EvalFileError(
                path,
                f"{i} 番目の質問に q と relevant がありません",
                f"query {i} lacks q or relevant",
            )
        if not isinstance(item.get("passages", []), list):
            raise EvalFileError(
                path,
                f"{i} 番目の質問の passages がリストではありません",
                f"query {i}: passages is not a list",
            )
        relevant = {place_key(p, n): int(g) for p, n, g in item["relevant"]}
        queries.append(EvalQuery(str(i), item["q"], relevant, _anchors(item, i, path)))
    return EvalSet("dev", tuple(queries))


def _squad(data: dict) -> EvalSet:
    articles, queries = [], []
    for doc in data["data"]:
        for j, para in enumerate(doc["paragraphs"]):
            key = f"{doc['title']}#{j}"
            articles.append(Article(article_id(key), doc["title"], para["context"], path=key))
            queries += [
                EvalQuery(qa["id"], qa["question"], {article_id(key): 1}) for qa in para["qas"]
            ]
    return EvalSet("squad", tuple(queries), tuple(articles))


def read_eval_file(path: Path) -> EvalSet:
    """Either format, recognised by its keys."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        if isinstance(data, dict) and isinstance(data.get("queries"), list):
            return _dev(data, path)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return _squad(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvalFileError(
            path, f"評価ファイルを読めません: {exc}", f"cannot read the evaluation file: {exc}"
        ) from None
    raise EvalFileError(
        path,
        "形式が不明です（queries か SQuAD の data が必要）",
        "unknown format: expected `queries` (dev queries) or SQuAD `data`",
    )


def _dev_scores(query: EvalQuery, answer: dict) -> dict:
    places = [
        place_key(p["prefecture"], p["name"] if p["level"] == "municipality" else "")
        for p in answer["municipalities"]
    ]
    groups = [
        [
            place_key(p["prefecture"], p["name"] if p["level"] == "municipality" else "")
            for p in passage["municipalities"]
        ]
        for passage in answer["passages"]
    ]
    best = {k for k, g in query.relevant.items() if g == 2}
    answered = (
        {"answer@3": answer_hit(answer["passages"], query.anchors, 3)} if query.anchors else {}
    )
    return {
        **_ranked_scores(places, query.relevant),
        "hit@3": metrics.hit_at(groups, best, 3),
        **answered,
        "top": places[:5],
    }


def answer_hit(passages: list[dict], anchors: tuple[str, ...], k: int) -> float:
    """1 when one of the first k passages holds one of the anchors of the passages that answer the query."""
    return float(any(a in anchor_text(p["text"]) for p in passages[:k] for a in anchors))


def _squad_scores(query: EvalQuery, answer: dict) -> dict:
    ranked = metrics.dedupe([p["article_id"] for p in answer["passages"]])
    return {**_ranked_scores(ranked, query.relevant), "top": ranked[:3]}


def _ranked_scores(ranked: list[str], relevant: dict[str, int]) -> dict:
    return {
        "R@1": metrics.recall_at(ranked, relevant, 1),
        "R@5": metrics.recall_at(ranked, relevant, 5),
        "R@10": metrics.recall_at(ranked, relevant, 10),
        "MRR@10": metrics.mrr_at(ranked, relevant, 10),
        "nDCG@10": metrics.ndcg_at(ranked, relevant, 10),
    }


def evaluate(
    evalset: EvalSet,
    search: Callable[[str, str], dict],
    modes: list[str],
    progress: Callable | None = None,
) -> dict:
    """Per-query results and the mean of every metric, for each mode."""
    score = _dev_scores if evalset.kind == "dev" else _squad_scores
    result: dict = {"kind": evalset.kind, "queries": len(evalset.queries), "modes": {}}
    for mode in modes:
        rows = []
        for query in progress(evalset.queries, mode) if progress else evalset.queries:
            rows.append({"id": query.id, "q": query.text, **score(query, search(query.text, mode))})
        names = list(dict.fromkeys(k for r in rows for k in r if k not in ("id", "q", "top")))
        result["modes"][mode] = {  # a metric only some queries have (answer@3) is their mean
            "summary": {n: round(metrics.mean([r[n] for r in rows if n in r]), 4) for n in names},
            "per_query": rows,
        }
    return result


def table(result: dict) -> str:
    """The modes side by side as a Markdown table."""
    modes = result["modes"]
    names = list(next(iter(modes.values()))["summary"]) if modes else []
    lines = ["| mode | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for mode, data in modes.items():
        lines.append(f"| {mode} | " + " | ".join(f"{data['summary'][n]:.3f}" for n in names) + " |")
    return "\n".join(lines)


def per_query_table(result: dict) -> str:
    """One line per query and mode: its scores and what came first."""
    lines = []
    for mode, data in result["modes"].items():
        for row in data["per_query"]:
            scores = " ".join(f"{k}={v:.2f}" for k, v in row.items() if k not in ("id", "q", "top"))
            lines.append(
                f"[{mode}] {row['q'][:40]}  {scores}  top={','.join(map(str, row['top'][:3]))}"
            )
    return "\n".join(lines)


def _progress(queries, mode):
    from tqdm import tqdm

    return tqdm(queries, desc=mode, unit="q", leave=False)


def run_file(
    path: Path,
    modes: list[str],
    index_dir: Path,
    embedder,
    cache_dir: Path | None = None,
    dense_weight: float | None = None,
    word_evidence: bool = True,
    store=None,
    synonyms: bool = True,
) -> dict:
    """Evaluate a file: dev queries against the index, SQuAD paragraphs in a temporary index of their own.

    The SQuAD index never touches `index_dir` (nor the Milvus store's collections: it gets a Lite file, or
    `<collection>_eval` on a server); its embeddings are kept in `cache_dir/eval-embeddings` so a second run
    embeds nothing.
    """
    import tempfile

    from indexer.write import changes, indexing
    from search.engine import Engine
    from search.fusion import DENSE_WEIGHT

    evalset = read_eval_file(path)
    weight = DENSE_WEIGHT if dense_weight is None else dense_weight
    if evalset.kind == "dev":
        engine = Engine(
            index_dir,
            embedder,
            query_cache=8192,
            dense_weight=weight,
            word_evidence=word_evidence,
            store=store,
            synonyms=synonyms,
            cache_dir=cache_dir,
        )
        return evaluate(evalset, lambda q, m: engine.search(q, 10, m), modes, _progress)
    with tempfile.TemporaryDirectory(prefix="jsearch-eval-") as tmp:
        target = Path(tmp)
        if cache_dir is not None:
            (Path(cache_dir) / "eval-embeddings").mkdir(parents=True, exist_ok=True)
            (target / "cache").symlink_to(Path(cache_dir).resolve() / "eval-embeddings")
        scratch = _eval_store(store, target)
        indexing.apply(
            target,
            changes.Change(upsert=evalset.articles, replace_all=True),
            embedder,
            scratch,
            progress=True,
        )
        engine = Engine(
            target,
            embedder,
            query_cache=8192,
            dense_weight=weight,
            word_evidence=word_evidence,
            store=scratch,
            synonyms=synonyms,
            cache_dir=cache_dir,
        )
        return evaluate(evalset, lambda q, m: engine.search(q, K_PASSAGES, m), modes, _progress)


def _eval_store(store, folder: Path):
    """Where a SQuAD file is indexed: FAISS in the temporary folder, or the same kind of store as asked."""
    from indexer.stores.factory import open_store

    return open_store(store, folder).scratch(folder)
