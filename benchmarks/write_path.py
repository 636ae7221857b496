"""Write path on a big synthetic index: one-article `jsearch add`, API writes under load, 20 segments against 1.

Usage: .venv/bin/python benchmarks/write_path.py [--articles 20000] [--writes 10] [--clients 12]
                                                [--segments-latency] [--out FILE.json] [--work DIR --keep]

1. Synthetic base of N articles, written without running the model on N texts. JSQuAD validation paragraphs
   are split in two by paragraph: every 5th paragraph is held out (the real "new" articles of parts 2-4), the
   others are cut into sentences (split after 。！？ and at line ends, 10-300 characters), together with the
   lines/sentences of the bundled articles. Up to --pool distinct sentences are drawn from that (seeded); each
   is tokenised once with indexer.analysis.lexical.counts and embedded once with the project's model (passage prompt;
   the matrix is cached under /tmp/jsearch-write-path-cache). A synthetic article = the title of its first
   sentence's JSQuAD article (or bundled file) + 2-5 random pool sentences joined as one paragraph; one passage
   (one chunk spanning the whole text, no municipality mentions); its token counts = counts(title) + the sum of
   its sentences' counts (character bigrams across sentence joints are the only tokens missing); its vector =
   the normalised mean of its sentences' embeddings + N(0, sigma²) per dimension, re-normalised. The N
   articles are written as ONE segment (indexer.stores.faiss.segment.write inside a layout.Building) and published as a
   commit point (commit.publish with the manifest the FAISS writer's _commit makes); no embedding/prepare cache is filled.
2. --cli-adds (5) successive `jsearch add FILE --index-dir D --json` runs through the real CLI (own process), each a
   held-out JSQuAD paragraph as a .txt file: the summary's `seconds` (write start → switch, model load
   excluded; target ≤ 1.0 s), wall time of the process, its peak RSS (wait4 rusage), and the index size without
   cache/ (st_blocks, like du) before the write and its peak while the process runs (polled every 20 ms;
   target peak/before ≤ 1.2). The background merge the CLI may run after the write is inside wall and peak.
3. A real `jsearch serve` on loopback (JSEARCH_MERGE as in the environment, default on) while --clients
   threads query /search back to back with distinct JSQuAD questions. --writes rounds of: POST /articles
   (held-out paragraph + a unique ASCII marker word) → seconds until a probe `/search?q=MARKER&mode=lexical`
   returns a passage of the article holding the marker; re-POST the same url with a new marker → until a
   passage of it with the new marker comes back; DELETE → until no passage of the article comes back for that
   marker (a marker's char n-grams match other text, so the marker itself must be in the passage shown). The
   probe (one more client) polls from a thread started just before the request is sent; a change counts as
   visible when the probe's response arrives (targets: add ≤ 1 s, update ≤ 1 s, delete ≤ 0.5 s). The
   clients' requests, failures (non-200 or exception; must be 0) and p50/p99 latency over the write rounds
   are reported, and the latency over the second half of the warm-up (no writes) for comparison.
4. --segments-latency: in-process, small batches of held-out paragraphs are added with indexing.apply (no merge)
   until the index has --segments (20) live segments; Engine.search (hybrid, k=10) p50/p95 over
   --latency-queries (200) distinct JSQuAD questions (query vectors cached after a warm-up pass, so the times
   are ranking + fetch only); then merge.maybe_merge(dir, max_segments=1) and the same again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import kit
import numpy as np

from corpus.article import Article, article_id
from corpus.bundled import bundled_corpus_dir
from indexer.analysis import lexical
from indexer.analysis.chunker import CHUNKER_VERSION, Chunk
from indexer.analysis.normalize import nfkc
from indexer.analysis.prepare import Passage, Prepared
from indexer.model import export
from indexer.model.base import DEFAULT_PRECISION
from indexer.stores import manifest
from indexer.stores.faiss import commit, layout, merge, segment
from indexer.write import changes, indexing
from indexer.write.embedcache import embed_key

CACHE = Path("/tmp/jsearch-write-path-cache")
HOLD_OUT_EVERY = 5
KEY = "bench-key-" + os.urandom(8).hex()
TARGETS = {
    "add_seconds": 1.0,
    "disk_ratio": 1.2,
    "add_visible": 1.0,
    "update_visible": 1.0,
    "delete_visible": 0.5,
}


# ---------------------------------------------------------------- real texts


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。！？!?])|\n", text) if 10 <= len(s.strip()) <= 300]


@dataclass
class Texts:
    """Sentences for the synthetic base, held-out paragraphs for real writes, questions for queries."""

    sentences: list[tuple[str, str]]  # (title, sentence), distinct sentences
    held_out: list[tuple[str, str]]  # (title, paragraph body)
    questions: list[str]
    _next: int = 0

    def take(self) -> tuple[str, str, int]:
        """The next held-out paragraph (title, body, serial); cycles with a new serial when exhausted."""
        i = self._next
        self._next += 1
        title, body = self.held_out[i % len(self.held_out)]
        return title, body, i


def load_texts(pool: int, rng: np.random.Generator) -> Texts:
    data = kit.jsquad()
    sentences: dict[str, str] = {}
    held_out, questions, n = [], [], 0
    for article in data:
        for paragraph in article["paragraphs"]:
            title, _, body = paragraph["context"].partition(" [SEP] ")
            body = body or title
            if n % HOLD_OUT_EVERY == 0:
                held_out.append((article["title"], body))
            else:
                for s in _sentences(body):
                    sentences.setdefault(s, article["title"])
            questions += [qa["question"] for qa in paragraph["qas"]]
            n += 1
    for path in sorted(bundled_corpus_dir().glob("*.txt")):
        lines = path.read_text("utf-8").splitlines()
        title = next(
            (line.strip().lstrip("#").strip() for line in lines if line.strip()), path.stem
        )
        for s in _sentences("\n".join(lines)):
            sentences.setdefault(s, title[:60])
    items = sorted(sentences.items())
    chosen = rng.permutation(len(items))[:pool]
    return Texts(
        [(items[i][1], items[i][0]) for i in sorted(chosen)],
        held_out,
        list(dict.fromkeys(questions)),
    )


def embed_pool(embedder, texts: list[str]) -> np.ndarray:
    info = embedder.info
    key = hashlib.sha256(
        "\x00".join(
            [info.vectors, str(export.EXPORTER_VERSION), info.passage_prompt, *texts]
        ).encode()
    ).hexdigest()[:16]
    path = CACHE / f"pool-{key}.npy"
    if path.exists():
        return np.load(path)
    began = time.perf_counter()
    matrix = embedder.encode_passages(texts, batch_size=64).astype(np.float32)
    print(
        f"# embedded {len(texts)} pool sentences in {time.perf_counter() - began:.0f} s (cached to {path})",
        flush=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    return matrix


# ---------------------------------------------------------------- part 1: synthetic base


def build_base(
    index_dir: Path, n: int, texts: Texts, embedder, sigma: float, rng: np.random.Generator
) -> dict:
    """Write N synthetic articles as one segment and publish a commit point; returns timings and sizes."""
    info = embedder.info
    began = time.perf_counter()
    pool_text = [s for _, s in texts.sentences]
    pool_vecs = embed_pool(embedder, pool_text)
    embedded_at = time.perf_counter()
    sentence_counts = [lexical.counts(s) for s in pool_text]
    title_counts = {t: lexical.counts(t) for t in dict.fromkeys(t for t, _ in texts.sentences)}
    tokenised_at = time.perf_counter()

    sizes = rng.integers(2, 6, size=n)
    picks = rng.integers(len(pool_text), size=int(sizes.sum()))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    days = rng.integers(0, 3650, size=n)
    matrix = np.empty((n, pool_vecs.shape[1]), np.float32)
    items, keys = [], []
    for i in range(n):
        chosen = picks[starts[i] : starts[i + 1]]
        title = texts.sentences[chosen[0]][0]
        text = "".join(pool_text[j] for j in chosen)
        counts = Counter(title_counts[title])
        for j in chosen:
            counts.update(sentence_counts[j])
        vec = pool_vecs[chosen].mean(axis=0)
        matrix[i] = vec / np.linalg.norm(vec)
        aid = article_id(f"synthetic/{i}")
        url = f"https://synthetic.example/articles/{i}"
        article = Article(
            aid,
            title,
            text,
            "synthetic",
            (date(2015, 1, 1) + timedelta(int(days[i]))).isoformat(),
            url,
        )
        chunk = Chunk(0, len(text), text, "", 0)
        embed = nfkc(f"{title}\n{text}")
        items.append(
            Prepared(article, (Passage(f"{aid}-0000", 0, chunk, embed, url, ()),), (counts,))
        )
        keys.append(embed_key(info.name, info.passage_prompt, embed))
    for start in range(0, n, 100_000):
        block = matrix[start : start + 100_000]
        block += rng.standard_normal(block.shape, dtype=np.float32) * np.float32(sigma)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    composed_at = time.perf_counter()

    index = layout.IndexDir(index_dir)
    lock = layout.acquire(index, 60)
    try:
        building = layout.Building(index.segments)
        try:
            seg = segment.write(building.path, items, matrix, keys)
            name = layout.next_name(index.segments, "s")
            building.finish(index.segments / name)
        except BaseException:
            building.discard()
            raise
        entry = commit.Entry(name, seg["rows"], seg["articles"], seg["kind"])
        generation = commit.publish(
            index,
            manifest.Manifest(
                info.name,
                info.dimension,
                info.query_prompt,
                info.passage_prompt,
                CHUNKER_VERSION,
                lexical.TOKENIZER,
                entry.kind,
                entry.live_articles,
                entry.live_rows,
                datetime.now(UTC).isoformat(timespec="seconds"),
                "",
                sources=[],
                segments=[entry.as_json()],
                engine=info.engine,
                precision=info.precision,
            ),
        )
    finally:
        lock.release()
    written_at = time.perf_counter()
    return {
        "articles": n,
        "rows": seg["rows"],
        "kind": seg["kind"],
        "generation": generation,
        "pool_sentences": len(pool_text),
        "sigma": sigma,
        "embed_pool_s": round(embedded_at - began, 1),
        "tokenise_s": round(tokenised_at - embedded_at, 1),
        "compose_s": round(composed_at - tokenised_at, 1),
        "write_s": round(written_at - composed_at, 1),
        "total_s": round(written_at - began, 1),
        "index_mb": round(index_bytes(index_dir) / 2**20, 1),
    }


# ---------------------------------------------------------------- part 2: `jsearch add` through the CLI


def index_bytes(root: Path) -> int:
    """Allocated bytes under the index directory, cache/ left out (what `du` counts)."""
    total = 0
    for path, dirs, files in os.walk(root):
        if Path(path) == Path(root):
            dirs[:] = [d for d in dirs if d != "cache"]
        for name in files:
            try:
                total += os.lstat(os.path.join(path, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


class DiskPeak:
    """Polls the index size in a thread until stopped; the largest size seen."""

    def __init__(self, root: Path, every: float = 0.02) -> None:
        self.root, self.every, self.peak = root, every, index_bytes(root)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, index_bytes(self.root))
            self._stop.wait(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, index_bytes(self.root))
        return self.peak


def cli_add(index_dir: Path, file: Path) -> dict:
    """One `jsearch add FILE --json` in its own process: summary, wall seconds, peak RSS, disk before/peak."""
    before = index_bytes(index_dir)
    # The peak RSS comes from /usr/bin/time run as the child: a child forked straight from this process would
    # report this process's own (large) RSS at fork time as its maximum.
    timer = (
        ["/usr/bin/time", "-f", "%M", "-o", str(index_dir.parent / "rss.kib")]
        if Path("/usr/bin/time").exists()
        else []
    )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        disk = DiskPeak(index_dir)
        began = time.perf_counter()
        proc = subprocess.Popen(
            [*timer, *kit.JSEARCH, "add", str(file), "--index-dir", str(index_dir), "--json"],
            stdout=out,
            stderr=err,
            cwd=kit.ROOT,
        )
        _, status, usage = os.wait4(
            proc.pid, 0
        )  # ru_maxrss in KiB (only when /usr/bin/time is missing)
        if timer:
            usage = type(
                "Usage",
                (),
                {"ru_maxrss": int((index_dir.parent / "rss.kib").read_text().split()[-1])},
            )
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = disk.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = (
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )
    if proc.returncode != 0:
        raise SystemExit(f"jsearch add failed ({proc.returncode}): {stderr[-2000:]}")
    summary = json.loads(stdout)
    return {
        "seconds": summary["seconds"],
        "wall_s": round(wall, 2),
        "rss_mb": round(usage.ru_maxrss / 1024),
        "disk_before_mb": round(before / 2**20, 2),
        "disk_peak_mb": round(peak / 2**20, 2),
        "disk_ratio": round(peak / before, 4),
        "added": len(summary["added"]),
        "segments": summary["segments"],
        "merge": summary.get("merge"),
    }


def part_cli(index_dir: Path, texts: Texts, scratch: Path, runs: int) -> dict:
    rows = []
    for _ in range(runs):
        title, body, serial = texts.take()
        file = scratch / f"cli-{serial:04d}.txt"
        file.write_text(f"{title}（段落 {serial}）\n\n{body}\n", "utf-8")
        row = cli_add(index_dir, file)
        rows.append(row)
        print(f"#   jsearch add: {row}", flush=True)
    seconds = [r["seconds"] for r in rows]
    return {
        "runs": rows,
        "seconds_p50": kit.percentile(seconds, 50),
        "seconds_max": max(seconds),
        "wall_p50": kit.percentile([r["wall_s"] for r in rows], 50),
        "rss_mb_max": max(r["rss_mb"] for r in rows),
        "disk_ratio_max": max(r["disk_ratio"] for r in rows),
    }


# ---------------------------------------------------------------- part 3: writes through the server under load


class Probe:
    """Polls `/search?q=MARKER&mode=lexical` from a thread until "a passage of the article holding the marker is
    among the results" equals `wanted` (for a delete: any passage of the article)."""

    def __init__(
        self, base: str, marker: str, article: str, wanted: bool, timeout: float = 60
    ) -> None:
        self.base, self.marker, self.article, self.wanted, self.timeout = (
            base,
            marker,
            article,
            wanted,
            timeout,
        )
        self.seen: float | None = None
        self.polls = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _present(self, http: httpx.Client) -> bool | None:
        try:
            response = http.get("/search", params={"q": self.marker, "k": 10, "mode": "lexical"})
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        passages = [p for p in response.json()["passages"] if p["article_id"] == self.article]
        return any(self.marker in p["text"] for p in passages) if self.wanted else bool(passages)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            http.get("/health")  # connection open before the clock starts
            self._ready.set()
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                self.polls += 1
                if self._present(http) is self.wanted:
                    self.seen = time.monotonic()
                    return
                time.sleep(0.005)

    def join(self) -> None:
        self._thread.join()


def timed_write(
    base: str, marker: str, article: str, wanted: bool, send
) -> tuple[float | None, float, dict]:
    """Start the probe, send the write; seconds until visible (None: not within the timeout), request seconds."""
    probe = Probe(base, marker, article, wanted)
    probe.start()
    began = time.monotonic()
    response = send()
    answered = time.monotonic() - began
    if response.status_code >= 300:
        raise RuntimeError(f"write refused: {response.status_code} {response.text[:500]}")
    body = response.json()
    if body.get("id", article) != article:
        raise RuntimeError(f"the server gave id {body['id']}, not {article}")
    probe.join()
    return (
        (probe.seen - began if probe.seen else None),
        answered,
        {"status": response.status_code, **body},
    )


def part_server(
    index_dir: Path, texts: Texts, scratch: Path, writes: int, clients: int, warmup: float
) -> dict:
    server = kit.start_server(index_dir, env={"JSEARCH_API_KEY": KEY}, log=scratch / "server.log")
    base = server.base
    crowd = kit.Clients(base, texts.questions, clients, distinct=True, params={"k": 10})
    auth = {"Authorization": f"Bearer {KEY}"}
    rounds = []
    try:
        crowd.start()
        time.sleep(warmup)
        first = time.monotonic()
        with httpx.Client(base_url=base, timeout=120, headers=auth) as http:
            for r in range(writes):
                title, body, serial = texts.take()
                # ASCII runs: each one unique lexical token (its char n-grams match other text too)
                marker, marker2 = f"wpadd{os.urandom(5).hex()}", f"wpupd{os.urandom(5).hex()}"
                url = f"https://bench.example/write-path/{serial}-{os.urandom(4).hex()}"
                doc = {
                    "title": f"{title}（書き込み {serial}）",
                    "body": f"{body}\n識別語 {marker}。",
                    "source": "bench",
                    "published": "2024-04-01",
                    "url": url,
                }
                aid = article_id(url)  # the server's id of a posted article with a url
                add_s, add_req, added = timed_write(
                    base, marker, aid, True, partial(http.post, "/articles", json=doc)
                )
                changed = {**doc, "body": f"{body}\n改訂版の識別語 {marker2}。追記した一文です。"}
                upd_s, upd_req, updated = timed_write(
                    base, marker2, aid, True, partial(http.post, "/articles", json=changed)
                )
                del_s, del_req, _ = timed_write(
                    base, marker2, aid, False, partial(http.delete, f"/articles/{aid}")
                )
                row = {
                    "add_visible": add_s,
                    "update_visible": upd_s,
                    "delete_visible": del_s,
                    "add_request": round(add_req, 3),
                    "update_request": round(upd_req, 3),
                    "delete_request": round(del_req, 3),
                    "add_status": added["status"],
                    "update_status": updated["status"],
                    "generation": updated["generation"],
                }
                rounds.append(row)
                print(
                    f"#   round {r + 1}: "
                    + ", ".join(
                        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()
                    ),
                    flush=True,
                )
        last = time.monotonic()
        time.sleep(0.5)
    finally:
        crowd.stop(90)
        server.stop()
    log = crowd.load
    window = log.window(first, last)
    latencies = kit.millis([s for _, s, _ in window])
    quiet = kit.millis(
        [s for _, s, _ in log.window(first - warmup / 2, first)]
    )  # the second half of the warm-up
    result = {
        "rounds": rounds,
        "clients": clients,
        "requests": len(window),
        "failures": sum(not ok for _, _, ok in window),
        "failures_all": sum(not ok for _, _, ok in log.rows),
        "requests_all": len(log.rows),
        "errors": log.errors,
        "query_p50_ms": kit.percentile(latencies, 50),
        "query_p99_ms": kit.percentile(latencies, 99),
        "quiet_p50_ms": kit.percentile(quiet, 50),
        "quiet_p99_ms": kit.percentile(quiet, 99),
        "seconds": round(last - first, 1),
    }
    for kind in ("add", "update", "delete"):
        seen = [r[f"{kind}_visible"] for r in rounds]
        found = [s for s in seen if s is not None]
        result[f"{kind}_p50"] = kit.percentile(found, 50)
        result[f"{kind}_max"] = max(found) if len(found) == len(seen) else float("inf")
        result[f"{kind}_timeouts"] = len(seen) - len(found)
    return result


# ---------------------------------------------------------------- part 4: 20 segments against 1


def engine_latency(index_dir: Path, embedder, queries: list[str]) -> dict:
    from search.engine import Engine

    engine = Engine(index_dir, embedder, query_cache=len(queries) + 16)
    for q in queries:  # warm-up: query vectors cached, files paged in
        engine.search(q, 10)
    millis = []
    for q in queries:
        began = time.perf_counter()
        engine.search(q, 10)
        millis.append((time.perf_counter() - began) * 1000)
    segments = len(engine.view.parts)
    return {
        "segments": segments,
        "p50_ms": kit.percentile(millis, 50),
        "p95_ms": kit.percentile(millis, 95),
        "mean_ms": float(np.mean(millis)),
    }


def live_segments(index_dir: Path) -> int:
    return len(manifest.read(layout.IndexDir(index_dir).require_current()).segments)


def part_segments(
    index_dir: Path, texts: Texts, embedder, queries: list[str], target: int, batch: int
) -> dict:
    before = live_segments(index_dir)
    pre_merge = None
    if before > target:
        pre_merge = merge.maybe_merge(index_dir, max_segments=1).seconds
    batches, write_s = 0, []
    while live_segments(index_dir) < target:
        articles = []
        for _ in range(batch):
            title, body, serial = texts.take()
            url = f"https://bench.example/segments/{serial}"
            articles.append(
                Article(article_id(url), f"{title}（段落 {serial}）", body, "bench", None, url)
            )
        report = indexing.apply(index_dir, changes.Change(upsert=tuple(articles)), embedder)
        write_s.append(report.seconds)
        batches += 1
    many = engine_latency(index_dir, embedder, queries)
    print(f"#   {many['segments']} segments: {many}", flush=True)
    merged = merge.maybe_merge(index_dir, max_segments=1)
    one = engine_latency(index_dir, embedder, queries)
    print(
        f"#   {one['segments']} segment: {one} (merge {merged.seconds if merged else None} s)",
        flush=True,
    )
    return {
        "segments_before": before,
        "pre_merge_s": pre_merge,
        "batches": batches,
        "batch_articles": batch,
        "batch_write_p50_s": kit.percentile(write_s, 50),
        "many": many,
        "one": one,
        "merge_s": merged.seconds if merged else None,
        "merged_rows": merged.rows if merged else None,
        "merged_kind": merged.kind if merged else None,
    }


# ---------------------------------------------------------------- report


def fmt(value, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not np.isfinite(value):
        return "timeout" if value > 0 else "–"
    return f"{value:.{digits}f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def table(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    if base := results.get("base"):
        rows += [
            (
                "1 base",
                "synthetic articles / rows / FAISS kind",
                f"{base['articles']:,} / {base['rows']:,} / {base['kind']}",
                "",
            ),
            (
                "1 base",
                "build s (embed pool / tokenise / compose / write)",
                f"{base['total_s']} ({base['embed_pool_s']} / {base['tokenise_s']} / {base['compose_s']} / "
                f"{base['write_s']})",
                "",
            ),
            ("1 base", "index size MB (without cache/)", fmt(base["index_mb"], digits=1), ""),
        ]
    if cli := results.get("cli"):
        rows += [
            (
                "2 jsearch add",
                f"summary seconds p50 / max ({len(cli['runs'])} adds)",
                f"{fmt(cli['seconds_p50'])} / {fmt(cli['seconds_max'])}",
                "≤ 1.0 s",
            ),
            ("2 jsearch add", "process wall s p50 (model load included)", fmt(cli["wall_p50"]), ""),
            ("2 jsearch add", "peak RSS of the process MB (max)", fmt(cli["rss_mb_max"]), ""),
            (
                "2 jsearch add",
                "disk peak / before (max)",
                fmt(cli["disk_ratio_max"], digits=3),
                "≤ 1.2",
            ),
        ]
    if srv := results.get("server"):
        n = len(srv["rounds"])
        for kind, target in (("add", "≤ 1 s"), ("update", "≤ 1 s"), ("delete", "≤ 0.5 s")):
            timeouts = f" ({srv[f'{kind}_timeouts']} not seen)" if srv[f"{kind}_timeouts"] else ""
            rows.append(
                (
                    "3 server",
                    f"{kind} visible s p50 / worst ({n} writes){timeouts}",
                    f"{fmt(srv[f'{kind}_p50'])} / {fmt(srv[f'{kind}_max'])}",
                    target,
                )
            )
        rows += [
            (
                "3 server",
                f"queries by {srv['clients']} clients during writes ({srv['seconds']} s) / failed",
                f"{srv['requests']} / {srv['failures']} (whole run: {srv['requests_all']} / {srv['failures_all']})",
                "0 failed",
            ),
            (
                "3 server",
                "query latency p50 / p99 ms during writes",
                f"{fmt(srv['query_p50_ms'], digits=0)} / {fmt(srv['query_p99_ms'], digits=0)}",
                "",
            ),
            (
                "3 server",
                "query latency p50 / p99 ms before the writes (2nd half of warm-up)",
                f"{fmt(srv['quiet_p50_ms'], digits=0)} / {fmt(srv['quiet_p99_ms'], digits=0)}",
                "",
            ),
        ]
    if seg := results.get("segments"):
        many, one = seg["many"], seg["one"]
        rows += [
            (
                "4 segments",
                f"Engine.search p50 / p95 ms, {many['segments']} segments",
                f"{fmt(many['p50_ms'])} / {fmt(many['p95_ms'])}",
                "",
            ),
            (
                "4 segments",
                f"Engine.search p50 / p95 ms, {one['segments']} segment",
                f"{fmt(one['p50_ms'])} / {fmt(one['p95_ms'])}",
                "",
            ),
            (
                "4 segments",
                f"forced merge to 1 segment s ({seg['merged_rows']} rows, {seg['merged_kind']})",
                fmt(seg["merge_s"]),
                "",
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--articles", type=int, default=20_000, help="synthetic articles in the base"
    )
    parser.add_argument(
        "--pool", type=int, default=3000, help="distinct real sentences tokenised and embedded"
    )
    parser.add_argument(
        "--sigma", type=float, default=0.02, help="Gaussian noise per dimension on each vector"
    )
    parser.add_argument(
        "--cli-adds", type=int, default=5, help="successive one-article `jsearch add` runs"
    )
    parser.add_argument(
        "--writes", type=int, default=10, help="add/update/delete rounds through the server"
    )
    parser.add_argument(
        "--clients", type=int, default=12, help="query threads during the server writes"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds of query load before the first write"
    )
    parser.add_argument(
        "--segments-latency", action="store_true", help="also measure 20 segments against 1"
    )
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument(
        "--batch-articles", type=int, default=3, help="articles per small batch in part 4"
    )
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and its index")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision", default=DEFAULT_PRECISION, help="of the model and the base's vectors"
    )
    args = parser.parse_args()

    from indexer.model.base import Embedder

    rng = np.random.default_rng(args.seed)
    scratch = args.work or Path(tempfile.mkdtemp(prefix="jsearch-write-path-"))
    scratch.mkdir(parents=True, exist_ok=True)
    index_dir = scratch / "index"
    if index_dir.exists():
        raise SystemExit(f"{index_dir} exists already; give another --work")
    began = time.perf_counter()
    embedder = Embedder.load(None, None, precision=args.precision)
    texts = load_texts(args.pool, rng)
    print(
        f"model={embedder.info.name} cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} scratch={scratch}\n"
        f"pool={len(texts.sentences)} sentences, held-out paragraphs={len(texts.held_out)}, "
        f"questions={len(texts.questions)}",
        flush=True,
    )
    results: dict = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "cpus": os.cpu_count(),
    }
    try:
        print(f"# part 1: synthetic base of {args.articles:,} articles", flush=True)
        results["base"] = build_base(index_dir, args.articles, texts, embedder, args.sigma, rng)
        print(f"#   {results['base']}", flush=True)
        if not args.skip_cli:
            print(f"# part 2: {args.cli_adds} × jsearch add", flush=True)
            results["cli"] = part_cli(index_dir, texts, scratch, args.cli_adds)
        if not args.skip_server:
            print(
                f"# part 3: {args.writes} add/update/delete rounds through the server, {args.clients} clients",
                flush=True,
            )
            results["server"] = part_server(
                index_dir, texts, scratch, args.writes, args.clients, args.warmup
            )
        if args.segments_latency:
            print(f"# part 4: {args.segments} segments against 1", flush=True)
            queries = texts.questions[:: max(1, len(texts.questions) // args.latency_queries)][
                : args.latency_queries
            ]
            results["segments"] = part_segments(
                index_dir, texts, embedder, queries, args.segments, args.batch_articles
            )
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    results["total_s"] = round(time.perf_counter() - began, 1)

    print(
        f"\n{args.articles:,} synthetic articles, cpus={os.cpu_count()}, total {results['total_s']} s, "
        f"loadavg={os.getloadavg()[0]:.2f}\n"
    )
    print("| part | measure | value | target |")
    print("|---|---|---|---|")
    for part, name, value, target in table(results):
        print(f"| {part} | {name} | {value} | {target} |")
    if results.get("server", {}).get("errors"):
        print("\nfirst query failures:", *results["server"]["errors"], sep="\n  ")
    if args.out:
        args.out.write_text(
            json.dumps(results, ensure_ascii=False, indent=1, default=float), "utf-8"
        )


if __name__ == "__main__":
    main()
