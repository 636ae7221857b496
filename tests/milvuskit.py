"""Helpers for the Milvus store tests: a real Milvus Lite store of the bundled corpus, CLI runs and server processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
JSEARCH = [sys.executable, "-c", "from api.cli import main; main()"]
VOLATILE = ("took_ms", "generation")  # what differs between two stores answering alike


def seeded_index_dir(path: Path, bundled_index: Path) -> Path:
    """A fresh local index directory for a Milvus store, with the bundled index's embedding and prepare caches (the
    store is built without embedding the bundled corpus again)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(bundled_index) / "cache", path / "cache", dirs_exist_ok=True)
    return path


def build_store(spec, index_dir: Path, embedder, articles: Sequence) -> object:
    """The articles into the store as one commit (the report)."""
    from corpus.bundled import bundled_corpus_dir
    from indexer.write import changes, indexing

    return indexing.apply(
        index_dir,
        changes.Change(upsert=tuple(articles), sources=(str(bundled_corpus_dir()),)),
        embedder,
        spec,
    )


def count(client, collection: str, expr: str = "") -> int:
    """Rows in a collection matching `expr` (all of them when empty), whatever their commit: the physical state."""
    client.load_collection(collection)
    found = client.query(collection, filter=expr, output_fields=["count(*)"])
    return int(found[0]["count(*)"]) if found else 0


def same(a, b, tol: float = 1e-3, path: str = "") -> None:
    """Assert two answers are equal, floats within `tol`."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), (
            f"{path}: {a!r} != {b!r}"
        )
        assert abs(a - b) <= tol, f"{path}: {a} != {b}"
    elif isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))} differ"
        for key in a:
            same(a[key], b[key], tol, f"{path}.{key}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, tol, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def without(answer: dict, keys: Sequence[str] = VOLATILE) -> dict:
    return {k: v for k, v in answer.items() if k not in keys}


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSEARCH_")}
    return {**env, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra}


def jsearch(
    *args: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`jsearch ARGS` in a subprocess, as a user runs it."""
    return subprocess.run(
        [*JSEARCH, *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
        cwd=ROOT,
    )


def jsearch_json(*args: str, env: dict | None = None) -> dict:
    done = jsearch(*args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: Sequence[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """A long-running process in its own session, its output to `log`."""
    out = open(log, "wb")
    try:
        return subprocess.Popen(
            list(args),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env or cli_env(),
            cwd=ROOT,
            start_new_session=True,
        )
    finally:
        out.close()


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if it lingers; only the process this test started."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, (
            f"exited {proc.returncode}: {log.read_text(errors='replace')[-3000:]}"
        )
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(
        f"port {port} did not open within {seconds} s: {log.read_text(errors='replace')[-3000:]}"
    )


def wait_health(base: str, proc: subprocess.Popen, log: Path, seconds: float = 150) -> dict:
    """The first /health answer of a server process (it loads the model first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, (
            f"exited {proc.returncode}: {log.read_text(errors='replace')[-3000:]}"
        )
        try:
            answer = httpx.get(base + "/health", timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(
        f"{base} did not answer /health within {seconds} s: {log.read_text(errors='replace')[-3000:]}"
    )
