"""SIGTERM to `jsearch serve`: requests in flight finish, new connections stop, the process exits in ≤ 10 s."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from faultkit import AUTH, ROOT, WRITE_KEY, cli_env, free_port, wait_http

CLEAN_EXIT = (
    0,
    -signal.SIGTERM,
)  # uvicorn shuts down gracefully, then re-raises the signal it caught


def _serve(index, port: int) -> subprocess.Popen:
    env = {**cli_env(), "JSEARCH_API_KEY": WRITE_KEY}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--index-dir",
            str(index),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_sigterm_lets_an_upload_in_flight_finish_and_exits_quickly(small_index):
    port = free_port()
    server = _serve(small_index, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base)
        long_text = "。".join(
            f"しおかぜ町は第{i}期の窓口改革で申請書を電子化した" for i in range(120)
        )
        result: dict = {}

        def upload() -> None:
            result["response"] = httpx.post(
                base + "/articles",
                headers=AUTH,
                timeout=120,
                json={"title": "しおかぜ町の窓口改革", "body": long_text},
            )

        thread = threading.Thread(target=upload)
        thread.start()
        time.sleep(0.4)  # the upload is being chunked and embedded
        began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        thread.join(60)
        code = server.wait(10)
        took = time.monotonic() - began
        assert result["response"].status_code == 201, result["response"].text
        assert code in CLEAN_EXIT and took <= 10, (code, took)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "/health", timeout=2)


@pytest.mark.slow
def test_sigterm_to_an_idle_server_exits_at_once(small_index):
    port = free_port()
    server = _serve(small_index, port)
    try:
        wait_http(f"http://127.0.0.1:{port}")
        began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(10) in CLEAN_EXIT and time.monotonic() - began < 5
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
