"""In front of the MCP transport: the per-client rate limit (429), then the read key (401), as JSON errors."""

from __future__ import annotations

import math

from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import read_allowed, read_refused
from api.mcp.buckets import TokenBuckets
from api.middleware import send_json
from api.settings import Settings
from common.errors import error_body


def bearer(scope: Scope) -> str:
    """The token of an `Authorization: Bearer …` header; "" without one."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def too_many(wait: float) -> tuple[dict, dict[str, str]]:
    """The 429 answer's body and its Retry-After header."""
    seconds = max(1, math.ceil(wait))
    body = error_body(
        "rate_limited",
        "",
        f"リクエストが多すぎます。{seconds} 秒後にもう一度お試しください",
        f"too many requests; try again in {seconds} s",
    )
    return body, {"Retry-After": str(seconds)}


class Gate:
    """Refuses before the MCP transport sees a request: over the client's rate, or without the read key."""

    def __init__(self, app: ASGIApp, settings: Settings, buckets: TokenBuckets) -> None:
        self.app, self.settings, self.buckets = app, settings, buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client") or ("", 0)
        wait = self.buckets.take(str(client[0]))
        if wait > 0:
            body, headers = too_many(wait)
            return await send_json(send, 429, body, headers)
        if not read_allowed(self.settings, bearer(scope)):
            refusal = read_refused()
            return await send_json(send, refusal.status, refusal.body(), refusal.headers)
        await self.app(scope, receive, send)
