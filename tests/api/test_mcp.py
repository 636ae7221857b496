"""The MCP server through the SDK's own client: over streamable HTTP at /mcp of a real server on loopback, and over
stdio (`jsearch mcp` as a subprocess); the read key, Host and Origin checks, the rate and body limits."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

ROOT = Path(__file__).resolve().parents[2]
QUERY = "窓口キャッシュレスの事例"
USA = "442119"  # 宇佐市
READ_KEY = "mcp-read-key"
TOOLS = {"search_cases", "municipality_cases", "similar_cases", "get_article", "suggest_words"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
RAW = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def http_session(url: str, headers: dict[str, str] | None = None):
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def stdio_session(index_dir: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from api.cli import main; main()", "mcp", "--index-dir", str(index_dir)],
        env=env,
        cwd=str(ROOT),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        with anyio.fail_after(240):  # the model loads first
            await session.initialize()
        yield session


def run(session_of: Callable[[], Any], check: Callable[[ClientSession], Awaitable[None]]) -> None:
    async def main() -> None:
        async with session_of() as session:
            await check(session)

    anyio.run(main)


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def tool_error(result) -> dict:
    """A tool error carries the API's one error shape, after the SDK's `Error executing tool …: ` prefix."""
    assert result.is_error, result
    text = result.content[0].text
    error = json.loads(text[text.index("{") :])["error"]
    assert error["code"] and error["ja"] and error["en"], error
    return error


@pytest.fixture(scope="module")
def mcp_base(server, start_server, api_settings, api_engine):
    """A server of its own on the shared index, with room in the rate limit for every test here.

    The shared server starts first (`server`): the first app on an engine wraps its embedder in the query
    batcher and unwraps it when it stops, which must not happen under the shared server's feet."""
    with start_server(api_settings.model_copy(update={"mcp_burst": 10_000}), api_engine) as base:
        yield base


# ---------------------------------------------------------------- over streamable HTTP


def test_tools_are_the_read_answers_with_typed_schemas(mcp_base):
    async def check(session: ClientSession) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS  # reads only: nothing writes, deletes or reindexes
        search = tools["search_cases"]
        assert search.input_schema["required"] == ["query"]
        assert set(search.input_schema["properties"]) == {
            "query",
            "k",
            "prefecture",
            "municipality",
            "source",
            "date_from",
            "date_to",
        }
        assert search.input_schema["properties"]["k"] | {"description": ""} == {
            "default": 10,
            "description": "",
            "maximum": 50,
            "minimum": 1,
            "title": "K",
            "type": "integer",
        }
        assert {"passages", "municipalities"} <= set(search.output_schema["required"])
        assert tools["municipality_cases"].input_schema["required"] == ["code"]
        assert tools["similar_cases"].input_schema["required"] == ["passage_id"]
        assert tools["get_article"].input_schema["required"] == ["id"]
        for tool in tools.values():
            assert tool.output_schema and tool.output_schema["type"] == "object"
            assert tool.annotations and tool.annotations.read_only_hint is True
            described = tool.description or ""
            assert any("\u3040" <= c <= "\u9fff" for c in described), described  # Japanese …
            assert "Use" in described or "List" in described or "One" in described  # … and English
        templates = (await session.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["article://{id}"]

    run(lambda: http_session(f"{mcp_base}/mcp"), check)


def test_search_cases_is_get_search(mcp_base):
    expected = httpx.get(f"{mcp_base}/search", params={"q": QUERY}, timeout=60).json()

    async def check(session: ClientSession) -> None:
        result = await session.call_tool("search_cases", {"query": QUERY})
        assert not result.is_error, result
        answer = result.structured_content
        assert answer["municipalities"][0]["name"] == "宇佐市"
        assert answer["municipalities"][0]["code"] == USA
        assert answer["passages"] == expected["passages"]
        assert answer["municipalities"] == expected["municipalities"]
        assert (
            json.loads(result.content[0].text) == answer
        )  # the same answer as text, for clients that read only that
        first = answer["passages"][0]
        assert first["title"] and first["url"].startswith("http") and first["published"]
        assert 0 <= first["start"] < first["end"]
        filtered = await session.call_tool(
            "search_cases", {"query": QUERY, "k": 3, "prefecture": "大分県"}
        )
        wanted = httpx.get(
            f"{mcp_base}/search", params={"q": QUERY, "k": 3, "prefecture": "大分県"}, timeout=60
        ).json()
        assert filtered.structured_content["passages"] == wanted["passages"]
        assert len(wanted["passages"]) >= 1

    run(lambda: http_session(f"{mcp_base}/mcp"), check)


def test_the_other_tools_and_the_article_resource_answer_as_their_routes(mcp_base):
    found = httpx.get(f"{mcp_base}/search", params={"q": QUERY}, timeout=60).json()
    passage = found["passages"][0]

    async def check(session: ClientSession) -> None:
        place = await session.call_tool("municipality_cases", {"code": USA, "limit": 5})
        assert (
            place.structured_content
            == httpx.get(f"{mcp_base}/municipalities/{USA}", params={"limit": 5}).json()
        )
        assert place.structured_content["name"] == "宇佐市"
        similar = await session.call_tool("similar_cases", {"passage_id": passage["id"], "k": 3})
        assert (
            similar.structured_content
            == httpx.get(
                f"{mcp_base}/passages/{passage['id']}/similar", params={"k": 3}, timeout=60
            ).json()
        )
        words = await session.call_tool("suggest_words", {"prefix": "うさ", "k": 3})
        suggested = httpx.get(f"{mcp_base}/suggest", params={"q": "うさ", "k": 3}).json()
        assert [
            s for s in suggested["suggestions"] if s["kind"] != "query"
        ] == words.structured_content["suggestions"]
        assert words.structured_content["suggestions"][0]["text"] == "宇佐市"
        article = httpx.get(f"{mcp_base}/articles/{passage['article_id']}").json()
        got = await session.call_tool("get_article", {"id": passage["article_id"]})
        assert got.structured_content == article
        read = await session.read_resource(f"article://{passage['article_id']}")
        assert read.contents[0].mime_type == "application/json"
        assert json.loads(read.contents[0].text) == article

    run(lambda: http_session(f"{mcp_base}/mcp"), check)


ERRORS = [
    ("search_cases", {"query": ""}, "query"),
    ("search_cases", {"query": "   "}, "query"),
    ("search_cases", {"query": QUERY, "k": 0}, "k"),
    ("search_cases", {"query": QUERY, "k": 51}, "k"),
    ("search_cases", {"query": QUERY, "prefecture": "東京"}, "prefecture"),
    ("search_cases", {"query": QUERY, "date_from": "2024-02-30"}, "date_from"),
    ("municipality_cases", {"code": "999997"}, "code"),  # well-formed, no such government
    ("municipality_cases", {"code": "442118"}, "code"),  # wrong check digit
    ("municipality_cases", {"code": USA, "limit": 0}, "limit"),
    ("municipality_cases", {"code": USA, "limit": 101}, "limit"),
    ("similar_cases", {"passage_id": "no-such-passage"}, "passage_id"),
    ("similar_cases", {"passage_id": "x", "k": 0}, "k"),
    ("suggest_words", {"prefix": "う" * 1001}, "prefix"),
    ("suggest_words", {"prefix": "うさ", "k": 21}, "k"),
    ("get_article", {"id": "ffffffffffffffff"}, "id"),
    ("get_article", {"id": "../../etc/passwd"}, "id"),
]


async def errors_then_answers(session: ClientSession) -> None:
    """Every bad call is a tool error in both languages, and the same session answers the next call."""
    for name, arguments, field in ERRORS:
        error = tool_error(await session.call_tool(name, arguments))
        assert error["field"] == field, (name, arguments, error)
        after = await session.call_tool("search_cases", {"query": QUERY, "k": 1})
        assert not after.is_error and after.structured_content["passages"], (name, arguments)
    wrong_type = await session.call_tool("search_cases", {"query": QUERY, "k": "many"})
    assert wrong_type.is_error and "k" in wrong_type.content[0].text
    with pytest.raises(MCPError):
        await session.read_resource("article://ffffffffffffffff")
    assert (await session.call_tool("municipality_cases", {"code": USA})).structured_content[
        "passages"
    ]


def test_each_tools_errors_are_tool_errors_and_the_session_goes_on(mcp_base):
    run(lambda: http_session(f"{mcp_base}/mcp"), errors_then_answers)


# ---------------------------------------------------------------- over stdio


@pytest.mark.slow
def test_stdio_answers_as_get_search_and_survives_errors(mcp_base, api_index):
    expected = httpx.get(f"{mcp_base}/search", params={"q": QUERY}, timeout=60).json()

    async def check(session: ClientSession) -> None:
        assert {t.name for t in (await session.list_tools()).tools} == TOOLS
        answer = (await session.call_tool("search_cases", {"query": QUERY})).structured_content
        assert answer["municipalities"][0]["name"] == "宇佐市"
        assert answer["passages"] == expected["passages"]
        assert answer["municipalities"] == expected["municipalities"]
        await errors_then_answers(session)

    run(lambda: stdio_session(api_index), check)


# ---------------------------------------------------------------- security


@pytest.fixture(scope="module")
def keyed_base(server, start_server, api_settings, api_engine):
    """A read key, a second allowed host name, a small body limit and room in the rate limit."""
    update = {
        "read_key": READ_KEY,
        "mcp_allowed_hosts": ["127.0.0.1", "search.example.lg.jp"],
        "mcp_max_body_bytes": 2048,
        "mcp_burst": 10_000,
    }
    with start_server(api_settings.model_copy(update=update), api_engine) as base:
        yield base


KEY = {"Authorization": f"Bearer {READ_KEY}"}


def test_with_a_read_key_the_sdk_client_needs_it(keyed_base):
    async def check(session: ClientSession) -> None:
        result = await session.call_tool("search_cases", {"query": QUERY, "k": 1})
        assert result.structured_content["municipalities"][0]["name"] == "宇佐市"

    run(lambda: http_session(f"{keyed_base}/mcp", KEY), check)
    with pytest.raises(BaseExceptionGroup) as refused:  # refused before the handshake
        run(lambda: http_session(f"{keyed_base}/mcp"), check)
    assert [type(e) for e in leaves(refused.value)] == [MCPError]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {READ_KEY}"},
        {"Authorization": READ_KEY},
    ],
)
def test_no_key_or_a_wrong_one_is_refused(keyed_base, assert_error, headers):
    response = httpx.post(f"{keyed_base}/mcp", json=INITIALIZE, headers={**RAW, **headers})
    assert assert_error(response, 401, "Authorization")["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"Host": "evil.example"}, 421),
        ({"Host": "evil.example:8000"}, 421),
        ({"Host": "127.0.0.1.evil.example"}, 421),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1.evil.example:8000"}, 403),
        ({"Origin": "null"}, 403),
        ({"Host": "search.example.lg.jp"}, 200),  # JSEARCH_MCP_ALLOWED_HOSTS, any port
        ({"Host": "search.example.lg.jp:8443", "Origin": "https://search.example.lg.jp:8443"}, 200),
        ({"Origin": "http://127.0.0.1:9"}, 200),
    ],
)
def test_a_foreign_host_or_origin_is_refused_even_with_the_key(keyed_base, headers, status):
    response = httpx.post(f"{keyed_base}/mcp", json=INITIALIZE, headers={**RAW, **KEY, **headers})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["result"]["serverInfo"]["name"] == "jichitai-search"


def test_a_cors_origin_is_an_allowed_origin(keyed_base, host_site):
    headers = {**RAW, **KEY, "Origin": host_site[0]}
    assert httpx.post(f"{keyed_base}/mcp", json=INITIALIZE, headers=headers).status_code == 200


def test_bodies_over_the_limit_are_refused(keyed_base):
    big = {**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * 4096}}
    response = httpx.post(f"{keyed_base}/mcp", json=big, headers={**RAW, **KEY})
    assert response.status_code == 413


def test_each_client_is_rate_limited_and_search_is_not(
    server, start_server, api_settings, api_engine, assert_error
):
    update = {"mcp_burst": 3, "mcp_rate": 0.01}
    with start_server(api_settings.model_copy(update=update), api_engine) as base:
        for _ in range(3):
            assert httpx.post(f"{base}/mcp", json=INITIALIZE, headers=RAW).status_code == 200
        refused = httpx.post(f"{base}/mcp", json=INITIALIZE, headers=RAW)
        assert assert_error(refused, 429)["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 100
        assert httpx.get(f"{base}/search", params={"q": QUERY, "k": 1}).status_code == 200


def test_the_search_page_links_a_japanese_guide_to_registering_the_server(client):
    page = client.get("/")
    assert 'href="/static/mcp.html"' in page.text
    guide = client.get("/static/mcp.html")
    assert guide.status_code == 200 and '<html lang="ja">' in guide.text
    for needed in (
        "/mcp",
        "Authorization: Bearer",
        "JSEARCH_READ_KEY",
        "JSEARCH_MCP_ALLOWED_HOSTS",
    ):
        assert needed in guide.text, needed
    assert "jsearch" in guide.text and '"mcp"' in guide.text  # the stdio form


def test_jsearch_mcp_without_an_index_says_so_and_prints_nothing_on_stdout(tmp_path):
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "mcp",
            "--index-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "索引がありません" in done.stderr and "no index at" in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_allowed_hosts_and_origins_come_from_the_environment(monkeypatch):
    from api.mcp.http import transport_security
    from api.settings import Settings

    monkeypatch.setenv("JSEARCH_MCP_ALLOWED_HOSTS", "search.example.lg.jp, 10.0.0.5:8000,[::1]")
    monkeypatch.setenv("JSEARCH_CORS_ORIGINS", "http://portal.example.lg.jp/")
    allowed = transport_security(Settings())
    assert allowed.enable_dns_rebinding_protection
    assert allowed.allowed_hosts == [
        "search.example.lg.jp",
        "search.example.lg.jp:*",
        "10.0.0.5:8000",
        "[::1]",
        "[::1]:*",
    ]
    assert allowed.allowed_origins[0] == "http://portal.example.lg.jp"
    assert "https://search.example.lg.jp:*" in allowed.allowed_origins
    assert "http://10.0.0.5:8000" in allowed.allowed_origins
    assert "http://10.0.0.5:9000" not in allowed.allowed_origins


@pytest.mark.parametrize("header", [{"Host": "evil.example"}, {"Origin": "http://evil.example"}])
def test_the_sdk_client_sent_with_a_foreign_host_or_origin_is_refused(keyed_base, header):
    async def nothing(session: ClientSession) -> None:
        raise AssertionError("the session opened")

    with pytest.raises(BaseExceptionGroup) as refused:
        run(lambda: http_session(f"{keyed_base}/mcp", {**KEY, **header}), nothing)
    assert [type(e) for e in leaves(refused.value)] == [MCPError]
