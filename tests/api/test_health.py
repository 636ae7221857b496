"""`GET /health`, the offline Swagger UI, and the page and widget files the server hands out."""

from __future__ import annotations

import re
from pathlib import Path

from indexer.model.base import DEFAULT_PRECISION
from indexer.stores import manifest
from indexer.stores.faiss import layout

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def test_health_reports_the_served_generation(client, api_index):
    health = client.get("/health").json()
    current = layout.IndexDir(api_index).require_current()
    info = manifest.read(current)
    embedding = health.pop("embedding")
    assert health == {
        "status": "ok",
        "generation": current.name,
        "articles": info.articles,
        "chunks": info.chunks,
        "model": info.model,
        "created": info.created,
        "segments": len(info.segments),
        "deleted_chunks": sum(s["deleted_rows"] for s in info.segments),
    }
    assert health["model"] == "intfloat/multilingual-e5-small"
    assert (
        (embedding["engine"], embedding["precision"])
        == ("onnx", DEFAULT_PRECISION)
        == (info.engine, info.precision)
    )
    before = embedding["queries"]
    assert client.get("/search", params={"q": "窓口"}).status_code == 200
    assert client.get("/health").json()["embedding"]["queries"] == before + 1


def test_swagger_ui_is_served_from_local_files(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text), (
        "the docs page must not load from a CDN"
    )
    for asset in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
        assert client.get(asset).status_code == 200, asset
    spec = client.get("/openapi.json").json()
    assert {
        "/search",
        "/articles",
        "/articles/{article_id}",
        "/reindex",
        "/jobs/{job_id}",
        "/health",
    } <= set(spec["paths"])
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()


def test_page_and_widget_are_served_with_no_external_url(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<html lang="ja">' in page.text and 'aria-live="polite"' in page.text
    widget = client.get("/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert "attachShadow" in widget.text
    for name in ("app.js", "style.css", "japan.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    for file in STATIC.iterdir():
        text = file.read_text("utf-8")
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert all("HOST" in u for u in urls), (file.name, urls)  # only the widget's usage comment


def test_article_text_is_never_parsed_as_html_by_the_scripts():
    for name in ("app.js", "widget.js"):
        source = (STATIC / name).read_text("utf-8")
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source), (
            name
        )


def test_map_ships_with_every_prefecture():
    svg = (STATIC / "japan.svg").read_text("utf-8")
    assert len(set(re.findall(r'data-pref="([^"]+)"', svg))) == 47 and "japanmap" in svg


def test_serve_without_an_index_fails_at_once_in_both_languages(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "serve",
            "--port",
            "9",
            "--index-dir",
            str(tmp_path / "none"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=root,
    )
    assert done.returncode == 1
    assert "索引がありません" in done.stderr and "no index at" in done.stderr
