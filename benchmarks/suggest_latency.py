"""Suggestion latency (in-process and over HTTP) on the bundled index and a 20,000-article index, build time per
commit point, and 「もしかして」 on the dev queries (must stay silent) and on written misspelt/kana queries.

Usage: .venv/bin/python benchmarks/suggest_latency.py [--base DIR] [--repeat 3] [--out FILE]

--base is the index directory of a synthetic 20,000-article base made once by
`benchmarks/write_path.py --articles 20000 --skip-cli --skip-server --work /tmp/jsearch-suggest-20k --keep`
(default /tmp/jsearch-suggest-20k/index). Prefixes: the first 1-4 characters of every dev query and of 50 JSQuAD
questions, plus the written kana prefixes; each timed --repeat times after one warm-up. In-process: Engine.suggest;
HTTP: GET /suggest on `jsearch serve` in its own process over loopback (one client, keep-alive).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import httpx
import kit

KANA = [
    "まどぐち",
    "うさ",
    "きゃっしゅ",
    "でじたる",
    "まいなんばー",
    "こくみん",
    "しすてむ",
    "てれわーく",
]
MISSPELT = [
    "まどぐちキャッシュレス",
    "うさしの事例",
    "キャッシュレス決裁",
    "介護事業所のきどく確認",
    "職員向けBRP研修",
    "LINEこうしきアカウント",
    "RPAどうにゅう",
    "マイナンバーカードのさんじょうし",
]


def prefixes() -> list[str]:
    texts = kit.dev_queries() + kit.jsquad_questions()[:50]
    found = [t[:n] for t in texts for n in (1, 2, 3, 4)] + KANA
    return list(dict.fromkeys(found))


def answered(engine, queries: list[str]) -> int:
    """How many prefixes get at least one suggestion."""
    return sum(bool(engine.suggest(q, 8)["suggestions"]) for q in queries)


def in_process(engine, queries: list[str], repeat: int) -> list[float]:
    for q in queries:
        engine.suggest(q, 8)
    times = []
    for _ in range(repeat):
        for q in queries:
            began = time.perf_counter()
            engine.suggest(q, 8)
            times.append(time.perf_counter() - began)
    return kit.millis(times)


def over_http(index_dir: Path, queries: list[str], repeat: int) -> list[float]:
    with kit.start_server(index_dir, env={"JSEARCH_LOG": "false"}) as server:
        with httpx.Client(base_url=server.base, timeout=60) as http:
            deadline = time.monotonic() + 120
            while not http.get("/suggest", params={"q": "し"}).json()["suggestions"]:
                assert time.monotonic() < deadline, "suggestions never built"
                time.sleep(0.2)
            for q in queries:
                http.get("/suggest", params={"q": q, "k": 8})
            times = []
            for _ in range(repeat):
                for q in queries:
                    began = time.perf_counter()
                    assert http.get("/suggest", params={"q": q, "k": 8}).status_code == 200
                    times.append(time.perf_counter() - began)
    return kit.millis(times)


def offer_cost(engine, queries: list[str], repeat: int) -> list[float]:
    """did_you_mean's own time on each query (as Engine.search calls it), in ms."""
    from search.didyoumean import did_you_mean

    view = engine.view
    times = []
    for q in queries * repeat:
        began = time.perf_counter()
        did_you_mean(q, lambda words: view.lexical_stats(words).df, engine.vocabulary)
        times.append(time.perf_counter() - began)
    return kit.millis(times)


def real_vocabulary_build(queries: list[str], repeat: int) -> str:
    """Lexicon build time on a real vocabulary: the BM25 terms of every JSQuAD valid paragraph (no model needed)."""
    from collections import Counter

    import numpy as np

    from indexer.analysis import lexical
    from indexer.stores.base import Vocabulary
    from indexer.stores.faiss import postings
    from search.suggest import Scored, segment_lexicon, suggest

    paragraphs = list(dict.fromkeys(p["context"] for a in kit.jsquad() for p in a["paragraphs"]))
    counts: list[Counter] = [lexical.counts(text) for text in paragraphs]
    built = postings.from_counts(counts)
    vocabulary = Vocabulary(
        [],
        [],
        [],
        sorted(built.vocab, key=built.vocab.__getitem__),
        np.asarray(built.indptr),
        np.asarray(built.rows),
    )
    began = time.perf_counter()
    lexicon = segment_lexicon(vocabulary)
    seconds = time.perf_counter() - began
    scored = (Scored.of(lexicon, None),)
    times = []
    for q in queries * (repeat + 1):
        began = time.perf_counter()
        suggest(q, 8, scored)
        times.append(time.perf_counter() - began)
    answered = sum(bool(suggest(q, 8, scored)) for q in queries)
    warm = kit.millis(times[len(queries) :])
    return (
        f"Lexicon of a real vocabulary: the {len(vocabulary.terms):,} BM25 terms of {len(paragraphs):,} JSQuAD "
        f"valid paragraphs → {len(lexicon.texts):,} terms offered, {len(lexicon.keys):,} keys, built in "
        f"{seconds:.1f} s (once per segment, in the background). The same prefixes on it (suggest() alone, one "
        f"lexicon): {answered} of {len(queries)} answered, p50 {kit.percentile(warm, 50):.3f} ms, p95 "
        f"{kit.percentile(warm, 95):.3f} ms."
    )


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, default=Path("/tmp/jsearch-suggest-20k/index"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from indexer.model.base import Embedder
    from search.engine import Engine

    embedder = Embedder.load(None, None)
    scratch = Path(kit.bundled_index(embedder)).parent
    queries = prefixes()
    lines = [
        "# Suggestions and 「もしかして」",
        "",
        f"{len(queries)} prefixes (the first 1-4 characters of the dev queries and 50 JSQuAD questions, and "
        f"{len(KANA)} kana prefixes) × {args.repeat} after one warm-up, k = 8; 2 CPUs shared with other work. "
        "The synthetic base (benchmarks/write_path.py) has titles and terms but no headings or place mentions.",
        "",
        row(
            "index",
            "articles",
            "lexicon entries",
            "keys",
            "build s (cold)",
            "prefixes answered",
            "where",
            "p50 ms",
            "p95 ms",
            "max ms",
        ),
        row(*["---"] * 10),
    ]
    try:
        dym: list[str] = []
        for name, index_dir in (("bundled", scratch / "index"), ("synthetic 20,000", args.base)):
            engine = Engine(index_dir, embedder)
            began = time.perf_counter()
            built = engine.suggestions(wait=True)
            seconds = time.perf_counter() - began
            assert built is not None
            entries = sum(len(p.lexicon.texts) for p in built.parts)
            keys = sum(len(p.lexicon.keys) for p in built.parts)
            with_answers = [q for q in queries if engine.suggest(q, 8)["suggestions"]]
            for where, times in (
                ("in-process", in_process(engine, queries, args.repeat)),
                (
                    "in-process, answered prefixes only",
                    in_process(engine, with_answers, args.repeat),
                ),
                ("HTTP", over_http(index_dir, queries, args.repeat)),
                ("HTTP, answered prefixes only", over_http(index_dir, with_answers, args.repeat)),
            ):
                lines.append(
                    row(
                        name,
                        f"{engine.view.manifest.articles:,}"
                        if hasattr(engine.view.manifest, "articles")
                        else "",
                        f"{entries:,}",
                        f"{keys:,}",
                        f"{seconds:.2f}",
                        f"{answered(engine, queries)} of {len(queries)}",
                        where,
                        f"{kit.percentile(times, 50):.2f}",
                        f"{kit.percentile(times, 95):.2f}",
                        f"{max(times):.2f}",
                    )
                )
                print(lines[-1], flush=True)
            if name == "bundled":
                dym += [
                    "",
                    "## 「もしかして」 on the bundled index",
                    "",
                    row("query", "set", "did_you_mean", "top dense"),
                    row(*["---"] * 4),
                ]
                fired = 0
                for q in kit.dev_queries():
                    answer = engine.search(q, 10)
                    fired += answer["did_you_mean"] is not None
                    dym.append(
                        row(
                            q,
                            "dev",
                            answer["did_you_mean"],
                            f"{answer['passages'][0]['scores']['dense']:.3f}",
                        )
                    )
                offered = 0
                extra = []
                for q in MISSPELT:
                    began = time.perf_counter()
                    answer = engine.search(q, 10)
                    offered += answer["did_you_mean"] is not None
                    offer = answer["did_you_mean"]
                    extra.append(
                        row(
                            q,
                            "written",
                            f"{offer['text']} ({offer['reason']})" if offer else None,
                            f"{answer['passages'][0]['scores']['dense']:.3f}",
                        )
                    )
                dym += extra
                dym += [
                    "",
                    f"Fired on {fired} of {len(kit.dev_queries())} dev queries; offered on {offered} of {len(MISSPELT)} written queries.",
                ]
                print("\n".join(dym), flush=True)
                search_times = []
                for q in kit.dev_queries() * args.repeat:
                    began = time.perf_counter()
                    engine.search(q, 10, "lexical")
                    search_times.append(time.perf_counter() - began)

                dev_cost = offer_cost(engine, kit.dev_queries(), args.repeat)
                written_cost = offer_cost(engine, MISSPELT, args.repeat)
                dym.append(
                    f"did_you_mean's own cost per search: dev queries p50 {kit.percentile(dev_cost, 50):.2f} ms "
                    f"(max {max(dev_cost):.2f}); written queries (a correction looked up) p50 "
                    f"{kit.percentile(written_cost, 50):.2f} ms (max {max(written_cost):.2f})."
                )
                dym.append(
                    f"Lexical /search on the dev queries (did_you_mean's check included): p50 {kit.percentile(kit.millis(search_times), 50):.2f} ms."
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    dym += ["", real_vocabulary_build(queries, args.repeat)]
    text = "\n".join(lines + dym) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
