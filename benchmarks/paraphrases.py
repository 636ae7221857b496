"""The words staff use: municipality R@5, MRR@10, nDCG@10, passage hit@3 and answer@3 on the paraphrase set
(benchmarks/data/paraphrases.json) and the dev queries, per mode, over the bundled corpus.

Usage: .venv/bin/python benchmarks/paraphrases.py [--modes hybrid,dense,lexical] [--index DIR] [--misses]
       [--label TEXT] [--out FILE]

The engine is the one `jsearch serve` runs (`api.main.load_engine` with `Settings()`), so every `JSEARCH_*` knob in
the environment (a dense weight, word evidence, a switch added later) applies to this run; the index is the
bundled corpus indexed into a temporary folder, or `--index DIR` (an index of the bundled corpus).

Metrics (`search.evaluation`): R@5, MRR@10 and nDCG@10 over the answer's municipalities against the graded
relevant ones; hit@3 = one of the first three passages names a grade-2 place; answer@3 = one of the first three
passages holds an anchor of the passages judged to answer the query (paraphrase set only: the dev file has none).
`--misses` lists each query whose first municipality or first three passages miss, with what came first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import kit

PARAPHRASES = kit.ROOT / "benchmarks" / "data" / "paraphrases.json"
METRICS = ("R@5", "MRR@10", "nDCG@10", "hit@3", "answer@3")


def engine_for(index: Path | None):
    """The served engine from the environment's settings, on `index` or on the bundled corpus indexed anew;
    returns (engine, temporary folder to remove or None)."""
    from api.main import load_embedder, load_engine
    from api.settings import Settings

    made = None
    if index is None:
        made = Path(tempfile.mkdtemp(prefix="jsearch-paraphrases-"))
        index = kit.bundled_index(load_embedder(Settings(index_dir=made / "index")), made)
    return load_engine(Settings(index_dir=index)), made


def table(results: dict[str, dict], modes: list[str]) -> list[str]:
    lines = [
        "| set | queries | mode | " + " | ".join(METRICS) + " |",
        "|---" * (len(METRICS) + 3) + "|",
    ]
    for name, result in results.items():
        for mode in modes:
            summary = result["modes"][mode]["summary"]
            cells = [f"{summary[m]:.3f}" if m in summary else "–" for m in METRICS]
            lines.append(f"| {name} | {result['queries']} | {mode} | " + " | ".join(cells) + " |")
    return lines


def misses(results: dict[str, dict], mode: str) -> list[str]:
    """Queries whose first municipality is not relevant or whose first three passages miss, in `mode`."""
    lines = []
    for name, result in results.items():
        for row in result["modes"][mode]["per_query"]:
            if row["MRR@10"] < 1.0 or row["hit@3"] < 1.0 or row.get("answer@3", 1.0) < 1.0:
                scores = ", ".join(f"{k} {row[k]:.2f}" for k in METRICS if k in row)
                lines.append(
                    f"- [{name}] {row['q']} — {scores}; first: {', '.join(row['top'][:3])}"
                )
    return lines


def commit() -> str:
    """The checkout's commit (and `+changes` when the tree differs from it), so a saved run names its code."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=kit.ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=kit.ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+changes" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="hybrid,dense,lexical")
    parser.add_argument(
        "--index", type=Path, help="an index of the bundled corpus (default: built anew)"
    )
    parser.add_argument("--paraphrases", type=Path, default=PARAPHRASES)
    parser.add_argument("--dev", type=Path, default=kit.DEV_QUERIES)
    parser.add_argument("--misses", action="store_true", help="list the hybrid misses")
    parser.add_argument("--label", default="", help="a heading for this run (e.g. before, after)")
    parser.add_argument("--out", type=Path, help="append the Markdown to this file")
    args = parser.parse_args()

    from search import evaluation

    modes = args.modes.split(",")
    engine, made = engine_for(args.index)
    try:
        results = {}
        for name, path in (("paraphrases", args.paraphrases), ("dev", args.dev)):
            if not path.is_file():
                print(f"skipped {name}: {path} not found", file=sys.stderr)
                continue
            evalset = evaluation.read_eval_file(path)
            results[name] = evaluation.evaluate(
                evalset, lambda q, m: engine.search(q, 10, m), modes
            )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    knobs = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("JSEARCH_"))
    lines = [
        f"### {args.label or 'run'} ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Code: {commit()}. Settings from the environment: {', '.join(knobs) or 'none (defaults)'}.",
        "",
        *table(results, modes),
    ]
    if args.misses and "hybrid" in modes:
        lines += [
            "",
            "Hybrid misses (first municipality or first three passages):",
            "",
            *misses(results, "hybrid"),
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
