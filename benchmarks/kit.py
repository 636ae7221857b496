"""What the benchmark scripts share: data paths, the dev queries, ONE percentile, the bundled index, the CLI, a
`jsearch serve` subprocess (or an in-process server), and query clients that keep a server busy.

Scripts are run from anywhere as `.venv/bin/python benchmarks/NAME.py`: Python puts the script's own folder
(benchmarks/) first on sys.path, so `import kit` works without any path hack, and the product packages come from
the project's editable install. A script never imports another script; what two of them need lives here.

Data: the shared folder beside the repository (`../shared`, or $JSEARCH_SHARED_DIR) holds the JSQuAD v1.3
validation file and the dev queries.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("JSEARCH_SHARED_DIR") or ROOT.parent / "shared")
JSQUAD = SHARED / "data" / "jsquad" / "valid-v1.3.json"
DEV_QUERIES = SHARED / "eval" / "dev_queries.json"
JSEARCH = [sys.executable, "-m", "api.cli"]  # the CLI in its own process, as staff run it

BUILT_IN_QUERIES = [
    "窓口キャッシュレスの事例",
    "LINEで行政手続きができる自治体",
    "マイナンバーカードを使った独自サービス",
    "職員向けのBPR研修",
    "郵便物の集計業務の自動化",
    "RPAで業務を効率化した市",
    "オンライン申請の導入",
    "ワクチン接種予約をLINEで",
    "ガバメントクラウドへの移行",
    "テレワークの導入支援",
]


# ---------------------------------------------------------------- data


def dev_queries(path: Path = DEV_QUERIES) -> list[str]:
    """The dev queries' texts; a built-in list of ten when the file is not there."""
    if not path.is_file():
        return list(BUILT_IN_QUERIES)
    return [q["q"] for q in json.loads(path.read_text("utf-8"))["queries"]]


def jsquad(path: Path = JSQUAD) -> list[dict]:
    """The JSQuAD file's articles (its "data" list: title, paragraphs with context and qas)."""
    if not path.is_file():
        raise SystemExit(f"JSQuAD file not found: {path} (set JSEARCH_SHARED_DIR or pass --squad)")
    return json.loads(path.read_text("utf-8"))["data"]


def jsquad_questions(path: Path = JSQUAD) -> list[str]:
    """Every JSQuAD question once, in file order."""
    found = [q["question"] for a in jsquad(path) for p in a["paragraphs"] for q in p["qas"]]
    return list(dict.fromkeys(found))


def write_jsquad_articles(folder: Path, count: int, path: Path = JSQUAD) -> str:
    """The first `count` JSQuAD paragraphs as .txt articles in `folder`; returns the title of the last one."""
    paragraphs = [(d["title"], p["context"]) for d in jsquad(path) for p in d["paragraphs"]][:count]
    folder.mkdir(parents=True, exist_ok=True)
    for i, (title, context) in enumerate(paragraphs):
        (folder / f"jsquad-{i:04d}.txt").write_text(f"{title}（段落 {i}）\n\n{context}\n", "utf-8")
    return f"{paragraphs[-1][0]}（段落 {len(paragraphs) - 1}）"


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by numpy's default linear interpolation; NaN when there are no values.

    The one definition every script uses, so that a p99 in one result file compares with a p99 in another.
    """
    return float(np.percentile(np.asarray(values, dtype=float), p)) if len(values) else float("nan")


def millis(seconds: Sequence[float]) -> list[float]:
    """Seconds as milliseconds."""
    return [s * 1000 for s in seconds]


# ---------------------------------------------------------------- indexes and the CLI


def bundled_index(embedder, parent: Path | None = None) -> Path:
    """The bundled corpus indexed (FAISS) into `parent`/index, by default a new temporary folder; returns the
    index directory (the caller removes its parent when done)."""
    from corpus.bundled import bundled_corpus_dir
    from indexer.write import indexing

    root = (parent or Path(tempfile.mkdtemp(prefix="jsearch-bench-"))) / "index"
    sources = [bundled_corpus_dir()]
    indexing.index_articles(root, indexing.load(sources).articles, sources, embedder)
    return root


def jsearch(*args: str, env: dict[str, str] | None = None, timeout: float | None = None) -> dict:
    """One `jsearch … --json` run in its own process; its JSON summary (SystemExit with its stderr on failure)."""
    done = subprocess.run(
        [*JSEARCH, *args, "--json"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"jsearch {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return json.loads(done.stdout)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A `jsearch serve` subprocess on loopback."""

    proc: subprocess.Popen
    port: int
    started: float  # seconds from the start of the process until `ready` answered 200
    log: Path
    owns_log: bool = False  # a temporary log, removed on stop

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after 30 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.owns_log:
            self.log.unlink(missing_ok=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    index_dir: Path,
    *,
    model: str | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    ready: str = "/health",
    timeout: float = 300,
) -> Server:
    """`jsearch serve` on a free loopback port in its own process (client and server share no GIL), with `env`
    added to this environment; returns once GET `ready` answers 200. Its output goes to `log` (a temporary file
    by default), whose tail is shown if it exits early."""
    import httpx

    port = free_port()
    cmd = [*JSEARCH, "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--index-dir", str(index_dir)] + (["--model", model] if model else [])
    owns_log = log is None
    if log is None:
        handle, name = tempfile.mkstemp(prefix="jsearch-bench-server-", suffix=".log")
        os.close(handle)
        log = Path(name)
    began = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the script, which stops the server
        )
    server = Server(proc, port, 0.0, log, owns_log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text("utf-8", "replace")[-2000:]
            server.stop()
            raise SystemExit(f"server exited with {proc.returncode}: {tail}")
        try:
            if httpx.get(server.base + ready, timeout=5).status_code == 200:
                server.started = time.perf_counter() - began
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise SystemExit(f"server did not answer {ready} within {timeout:.0f} s (log: {log})")


@contextmanager
def serve_in_thread(settings, engine) -> Iterator[str]:
    """The app under uvicorn in a thread of this process on a free loopback port (for an engine built here, e.g.
    on another store); yields its base URL."""
    import uvicorn

    from api.main import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# ---------------------------------------------------------------- query load


@dataclass
class Load:
    """Every query the clients sent, (start, seconds, ok) on the monotonic clock, and the first few failures."""

    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, began: float, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.rows.append((began, seconds, error is None))
            if error is not None and len(self.errors) < 10:
                self.errors.append(error)

    def window(self, start: float, end: float) -> list:
        """The queries started in [start, end)."""
        with self.lock:
            return [r for r in self.rows if start <= r[0] < end]


def query_client(
    base: str,
    queries: Sequence[str],
    offset: int,
    step: int,
    load: Load,
    stop: threading.Event,
    params: dict | None = None,
) -> None:
    """GET /search back to back until `stop`: queries[offset], queries[offset + step], … (cycled)."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as http:
        i = offset
        while not stop.is_set():
            began = time.monotonic()
            try:
                response = http.get(
                    "/search", params={"q": queries[i % len(queries)], **(params or {})}
                )
                error = (
                    None
                    if response.status_code == 200
                    else f"{response.status_code}: {response.text[:200]}"
                )
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            load.add(began, time.monotonic() - began, error)
            i += step


@dataclass
class Clients:
    """`count` query clients in threads; `distinct` gives each its own share of the queries (client i sends
    i, i + count, …), otherwise each runs through all of them from its own starting point."""

    base: str
    queries: Sequence[str]
    count: int
    distinct: bool = False
    params: dict | None = None
    load: Load = field(default_factory=Load)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list = field(default_factory=list)

    def start(self) -> Clients:
        step = self.count if self.distinct else 1
        self._threads = [
            threading.Thread(
                target=query_client,
                args=(self.base, self.queries, i, step, self.load, self._stop, self.params),
                daemon=True,
            )
            for i in range(self.count)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 120) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> Clients:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
