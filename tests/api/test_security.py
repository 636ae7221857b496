"""Keys, CORS and the body limit on real servers: writes need the key, no key means no writes, reads can be guarded."""

from __future__ import annotations

import httpx
import pytest

READ_KEY = "read-key-for-tests"

WRITES = [
    ("POST", "/articles", {"json": {"title": "鍵なし", "body": "書き込めないはず"}}),
    ("DELETE", "/articles/ffffffffffffffff", {}),
    ("POST", "/reindex", {}),
]


@pytest.mark.parametrize("method, path, kwargs", WRITES)
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong-key",
        "Bearer test-write-ke",
        "Bearer test-write-key2",
        "Basic dGVzdA==",
        "test-write-key",
        "Bearer テスト",
    ],
)
def test_writes_need_the_api_key(client, assert_error, method, path, kwargs, header):
    headers = {"Authorization": header.encode("utf-8")} if header is not None else {}
    response = client.request(method, path, headers=headers, **kwargs)
    assert_error(response, 401, "Authorization")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.fixture(scope="module")
def bare_server(start_server, api_settings, api_engine):
    """No write key and no CORS origins configured."""
    with start_server(
        api_settings.model_copy(update={"api_key": None, "cors_origins": []}), api_engine
    ) as base:
        yield base


@pytest.mark.parametrize("method, path, kwargs", WRITES)
def test_without_a_configured_key_writes_are_refused_not_open(
    bare_server, assert_error, method, path, kwargs
):
    for header in ({}, {"Authorization": "Bearer anything"}, {"Authorization": "Bearer None"}):
        response = httpx.request(method, bare_server + path, headers=header, **kwargs)
        assert assert_error(response, 403, "Authorization")["code"] == "writes_disabled"
    assert httpx.get(bare_server + "/search", params={"q": "窓口"}).status_code == 200


@pytest.fixture(scope="module")
def read_key_server(start_server, api_settings, api_engine):
    with start_server(api_settings.model_copy(update={"read_key": READ_KEY}), api_engine) as base:
        yield base


@pytest.mark.parametrize(
    "path", ["/search?q=窓口", "/articles", "/articles/ffffffffffffffff", "/jobs/abc"]
)
def test_read_key_guards_reads_when_set(read_key_server, auth, assert_error, path):
    assert_error(httpx.get(read_key_server + path), 401, "Authorization")
    assert_error(httpx.get(read_key_server + path, headers={"Authorization": "Bearer nope"}), 401)
    for key in (READ_KEY, auth["Authorization"].split()[1]):
        response = httpx.get(read_key_server + path, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code in (200, 404), response.text


def test_read_key_leaves_health_page_and_docs_open(read_key_server):
    for path in ("/health", "/", "/widget.js", "/docs", "/openapi.json"):
        assert httpx.get(read_key_server + path).status_code == 200, path


def test_read_key_does_not_allow_writes(read_key_server, assert_error):
    response = httpx.post(
        read_key_server + "/reindex", headers={"Authorization": f"Bearer {READ_KEY}"}
    )
    assert_error(response, 401)


def test_cors_only_for_the_configured_origin(client, host_site):
    allowed = host_site[0]
    preflight = client.options(
        "/search",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert (
        preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == allowed
    )
    simple = client.get("/search", params={"q": "窓口", "k": 1}, headers={"Origin": allowed})
    assert simple.headers["access-control-allow-origin"] == allowed
    for stranger in ("http://evil.example", "http://127.0.0.1:1", "null"):
        response = client.get("/search", params={"q": "窓口", "k": 1}, headers={"Origin": stranger})
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
        refused = client.options(
            "/search", headers={"Origin": stranger, "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in refused.headers


def test_no_cors_when_no_origin_is_configured(bare_server):
    for origin in ("http://127.0.0.1:9", "http://evil.example"):
        response = httpx.get(
            bare_server + "/search", params={"q": "窓口", "k": 1}, headers={"Origin": origin}
        )
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


def test_oversize_bodies_are_413_json_and_the_server_keeps_serving(
    client, auth, api_settings, assert_error
):
    limit = api_settings.max_body_bytes
    big = "あ" * (limit // 3 + 10)
    declared = client.post("/articles", json={"title": "大きすぎる", "body": big}, headers=auth)
    assert assert_error(declared, 413, "body")["code"] == "body_too_large"
    upload = client.post(
        "/articles", files={"file": ("big.txt", big.encode("utf-8"))}, headers=auth
    )
    assert_error(upload, 413, "body")

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536

    streamed = client.post(
        "/articles", content=chunks(), headers={**auth, "content-type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "body")
    unauthenticated = client.post("/articles", json={"title": "大きすぎる", "body": big})
    assert unauthenticated.status_code in (401, 413)
    assert client.get("/health").status_code == 200
