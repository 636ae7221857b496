"""A real uvicorn server on loopback over a copy of the bundled index, with the real model; built once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from browserkit import ARGS, CHROMIUM
from servekit import serve

from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WRITE_KEY = "test-write-key"
READ_KEY = "test-read-key"
BODY_LIMIT = 1_000_000
LOCK_TIMEOUT = 6


class HostPage(BaseHTTPRequestHandler):
    """Another origin: an intranet page that embeds the widget from the API server."""

    api = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        page = (
            f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>庁内ポータル</title>'
            f"<style>body{{font-family:serif;color:#600}} input,button,li{{color:#f0f !important}}</style></head>"
            f"<body><h1>庁内ポータル（別オリジン）</h1><p>DX 事例をここから検索できます。</p>"
            f'<div id="dx-search"></div>'
            f'<script src="{self.api}/widget.js" data-target="#dx-search"></script></body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def host_site() -> Iterator[tuple[str, type[HostPage]]]:
    """The host page's server (its origin is allowed by CORS); the API URL is filled in once known."""
    handler = type("Handler", (HostPage,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def api_index(tmp_path_factory, bundled_index) -> Path:
    """A writable copy of the bundled index (the API tests add, delete and reindex)."""
    root = tmp_path_factory.mktemp("api") / "index"
    shutil.copytree(bundled_index, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def api_engine(api_index, embedder, gazetteer):
    from search.engine import Engine

    return Engine(api_index, embedder, gazetteer)


@pytest.fixture(scope="session")
def api_settings(api_index, host_site) -> Settings:
    return Settings(
        index_dir=api_index,
        api_key=WRITE_KEY,
        cors_origins=[host_site[0]],
        max_body_bytes=BODY_LIMIT,
        lock_timeout=LOCK_TIMEOUT,
    )


@pytest.fixture(scope="session")
def server(api_settings, api_engine, host_site) -> Iterator[str]:
    """The base URL of the API server every test shares."""
    with serve(api_settings, api_engine) as base:
        host_site[1].api = base
        yield base


@pytest.fixture(scope="session")
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE_KEY}"}


def _assert_error(response: httpx.Response, status: int, field: str | None = None) -> dict:
    """A JSON error of the one shape, with Japanese and English wording."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert (
        set(error) == {"code", "field", "ja", "en"}
        and error["code"]
        and error["ja"]
        and error["en"]
    )
    if field is not None:
        assert error["field"] == field, error
    return error


def _cli_search(index_dir: Path, *args: str) -> dict:
    """`jsearch search --json` in a subprocess, as a user would run it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "search",
            *args,
            "--json",
            "--index-dir",
            str(index_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def assert_error():
    """`assert_error(response, status, field)`: checks the one error shape and returns the error object."""
    return _assert_error


@pytest.fixture(scope="session")
def cli_search():
    """`cli_search(index_dir, query, *flags)`: the `jsearch search --json` answer."""
    return _cli_search


@pytest.fixture(scope="session")
def start_server():
    """`with start_server(settings, engine) as base_url:` another real server, e.g. with other keys."""
    return serve


# ---------------------------------------------------------------- a real browser


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's Chromium: scripts/setup --with-browser"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A Japanese page that may only talk to loopback; anything else would mean a CDN or a leak.

    The page's Content-Security-Policy is bypassed so that the XSS checks test the scripts themselves (and so that
    Playwright may evaluate its waits); test_health checks that the policy is sent.
    """
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 1000}, bypass_csp=True
    )
    tab = context.new_page()
    tab.outside, tab.errors = [], []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    tab.route("**/*", guard)
    yield tab
    context.close()
    assert tab.outside == [], f"requests left the machine: {tab.outside}"
    assert tab.errors == [], tab.errors
