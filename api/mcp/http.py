"""`/mcp` on the HTTP app: the MCP server's streamable HTTP transport behind the rate limit and the read key,
answering only the allowed Host and Origin headers (DNS-rebinding protection)."""

from __future__ import annotations

from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import State
from starlette.routing import Route

from api.mcp import tools
from api.mcp.buckets import TokenBuckets
from api.mcp.gate import Gate
from api.settings import Settings
from search.engine import Engine

PATH = "/mcp"


def any_port(host: str) -> list[str]:
    """`name` allows the name on any port; `name:8000` (or `name:*`) only as written."""
    after = host.rsplit("]", 1)[-1] if host.startswith("[") else host
    return [host] if ":" in after else [host, f"{host}:*"]


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host headers from JSEARCH_MCP_ALLOWED_HOSTS; Origin headers of those hosts and JSEARCH_CORS_ORIGINS."""
    hosts = [h for name in settings.mcp_allowed_hosts for h in any_port(name)]
    origins = [*settings.cors_origins, *(f"{s}://{h}" for h in hosts for s in ("http", "https"))]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def current_engine(state: State) -> Engine:
    """The app's engine, switched to a newer commit point when one is due (as the HTTP routes do)."""
    if state.refresher.due():
        state.refresher()
    return state.engine


def mount(app: FastAPI, settings: Settings) -> MCPServer:
    """Add `/mcp` to the app; its lifespan must run the returned server's `session_manager.run()`.

    Stateless and JSON answers: no tool keeps state between calls, so any replica behind a load balancer
    can answer any request, and each answer is one JSON body instead of an event stream.
    """
    server = tools.build(lambda: current_engine(app.state))
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=settings.mcp_max_body_bytes,
        transport_security=transport_security(settings),
    )
    buckets = TokenBuckets(settings.mcp_rate, settings.mcp_burst)
    gate = Gate(StreamableHTTPASGIApp(server.session_manager), settings, buckets)
    app.router.routes.append(Route(PATH, endpoint=gate, include_in_schema=False))
    return server
