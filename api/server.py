"""The HTTP API: FastAPI app with the index loaded once at start-up, JSON errors, keys, CORS and a body limit."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import ApiError, Refresher
from api.routers import articles, health, jobs, municipalities, pages, passages, search
from api.settings import Settings
from common.errors import UserError, error_body
from indexer.write.group import GroupWriter
from search.batcher import QueryBatcher
from search.engine import Engine, check_request
from search.errors import IndexUnavailable, QueryError

log = logging.getLogger("jsearch.api")

if TYPE_CHECKING:
    from indexer.model.base import Embedder

DESCRIPTION = (
    "自治体DX記事のセマンティック検索 API。書き込みには `Authorization: Bearer <JSEARCH_API_KEY>` が必要です。"
    'エラーはすべて `{"error": {"code", "field", "ja", "en"}}` の形で返ります。\n\n'
    "Semantic search over municipal DX articles. Writes need the API key as a Bearer token; every error "
    "has the shape above."
)


def load_engine(settings: Settings) -> Engine:
    """The embedder and the current generation, loaded once (raises the user errors if there is no index)."""
    from indexer.stores.factory import open_store

    store = settings.store_spec()
    open_store(
        store, settings.index_dir
    ).require_index()  # fails before the model takes seconds to load
    return Engine(
        settings.index_dir,
        load_embedder(settings),
        dense_weight=settings.dense_weight,
        word_evidence=settings.word_evidence,
        store=store,
    )


def load_embedder(settings: Settings) -> Embedder:
    """The model on the configured engine, precision and threads."""
    from indexer.model.base import Embedder

    return Embedder.load(
        settings.model, settings.cache_dir, settings.engine, settings.precision, settings.threads
    )


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The app; without an engine, the lifespan loads one from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = engine or load_engine(settings)
        batcher = None
        if not isinstance(loaded.embedder, QueryBatcher):
            batcher = QueryBatcher(
                loaded.embedder, settings.batch_max, settings.batch_window_ms / 1000
            )
            loaded.embedder = batcher
        app.state.engine = loaded
        app.state.refresher = refresher = Refresher(loaded, settings.refresh_seconds)
        app.state.jobs = jobs.Jobs()
        app.state.writer = GroupWriter(
            settings.index_dir,
            loaded.embedder,
            settings.lock_timeout,
            after=lambda: refresher(force=True),
            merging=settings.merge,
            store=settings.store_spec(),
        )
        try:
            yield
        finally:
            if (
                batcher is not None
            ):  # an engine handed in may serve another app later: give it back unwrapped
                loaded.embedder = batcher.inner

    app = FastAPI(
        title="jichitai-search 自治体DX検索 API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True},
    )
    app.state.settings = settings
    for router in (
        search.router,
        municipalities.router,
        passages.router,
        articles.router,
        jobs.router,
        health.router,
        pages.router,
    ):
        app.include_router(router)
    pages.mount_assets(app)
    _install_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    return app


def run(settings: Settings, host: str, port: int) -> None:
    """Serve with uvicorn; the index is loaded before the port opens, so a missing index fails at once."""
    import uvicorn

    app = create_app(settings, load_engine(settings))
    print(
        f"検索ページ / search page: http://{host}:{port}/  API: http://{host}:{port}/docs",
        flush=True,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=8,
    )


# ---------------------------------------------------------------- errors

_STATUS = {
    400: ("bad_request", "リクエストが正しくありません", "bad request"),
    404: ("not_found", "ページが見つかりません", "no such page"),
    405: ("method_not_allowed", "このメソッドは使えません", "method not allowed"),
}


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(_: Request, exc: UserError) -> JSONResponse:
        return _json(exc.status, exc.body(), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(422, validation_error(exc.errors()).body())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:
            return _json(413, too_large(request.app.state.settings.max_body_bytes))
        code, ja, en = _STATUS.get(
            exc.status_code, ("http_error", str(exc.detail), str(exc.detail))
        )
        return _json(exc.status_code, error_body(code, "", ja, en), getattr(exc, "headers", None))

    @app.exception_handler(sqlite3.DatabaseError)
    @app.exception_handler(OSError)
    async def damaged(_: Request, exc: Exception) -> JSONResponse:
        log.error("索引を読めません / cannot read the index: %r", exc)
        return _json(503, IndexUnavailable(exc).body(), {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("内部エラー / internal error")
        return _json(
            500,
            error_body(
                "internal_error", "", "サーバー内部でエラーが起きました", "internal server error"
            ),
        )


def validation_error(errors: list[dict]) -> ApiError:
    """The first validation problem, worded for people; k and mode reuse the engine's own wording."""
    first = errors[0] if errors else {"type": "value_error", "loc": ("body",), "msg": "invalid"}
    kind, ctx, given = first.get("type", ""), first.get("ctx") or {}, first.get("input")
    names = [str(p) for p in first.get("loc", ()) if isinstance(p, str)]
    field = names[-1] if len(names) > 1 else (names[0] if names else "body")
    if field in ("k", "mode") and kind != "missing":
        given = int(given) if field == "k" and str(given).lstrip("-").isdecimal() else given
        try:
            check_request(given, "hybrid") if field == "k" else check_request(1, str(given))
        except QueryError as exc:
            return ApiError(422, "invalid_parameter", field, exc.ja, exc.en)
    if kind == "json_invalid":
        return ApiError(
            422,
            "invalid_json",
            "body",
            "JSON の形式が正しくありません",
            "the body is not valid JSON",
        )
    if kind == "value_error" and " / " in str(ctx.get("error", "")):
        ja, en = str(ctx["error"]).split(" / ", 1)
        return ApiError(422, "invalid_parameter", field, ja, en)
    if kind == "missing":
        return ApiError(
            422, "missing_parameter", field, f"{field} を指定してください", f"{field} is required"
        )
    words = {
        "int_parsing": ("整数で指定してください", "must be an integer"),
        "bool_parsing": ("true か false で指定してください", "must be true or false"),
        "string_too_long": (
            f"長すぎます（上限 {ctx.get('max_length')} 文字）",
            f"is too long (at most {ctx.get('max_length')} characters)",
        ),
        "string_too_short": ("空にはできません", "must not be empty"),
        "greater_than_equal": (
            f"{ctx.get('ge')} 以上にしてください",
            f"must be at least {ctx.get('ge')}",
        ),
        "less_than_equal": (
            f"{ctx.get('le')} 以下にしてください",
            f"must be at most {ctx.get('le')}",
        ),
        "model_attributes_type": ("JSON オブジェクトを送ってください", "must be a JSON object"),
        "model_type": ("JSON オブジェクトを送ってください", "must be a JSON object"),
        "dict_type": ("JSON オブジェクトを送ってください", "must be a JSON object"),
        "string_type": ("文字列で指定してください", "must be a string"),
        "extra_forbidden": ("不明な項目です", "is not a known field"),
    }.get(kind, ("値が正しくありません", str(first.get("msg", "is invalid")).lower()))
    return ApiError(422, "invalid_parameter", field, f"{field}: {words[0]}", f"{field} {words[1]}")


# ---------------------------------------------------------------- middleware


class BodyLimit:
    """Refuses request bodies over `limit` bytes with a 413 JSON error (declared length or bytes received)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await send_json(send, 413, too_large(self.limit))
        received, started = 0, False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge()
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except _TooLarge:
            if not started:
                await send_json(send, 413, too_large(self.limit))


def too_large(limit: int) -> dict:
    return error_body(
        "body_too_large",
        "body",
        f"リクエストが大きすぎます（上限 {limit:,} バイト）",
        f"the request body is larger than {limit:,} bytes",
    )


async def send_json(send: Send, status: int, body: dict) -> None:
    """A JSON answer sent straight from a middleware."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class _TooLarge(HTTPException):
    """Raised inside the app when the streamed body passes the limit (FastAPI re-raises HTTP exceptions as is)."""

    def __init__(self) -> None:
        super().__init__(413, "body too large")


class SecurityHeaders:
    """`nosniff` and no referrer on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
            await send(message)

        await self.app(scope, receive, add) if scope["type"] == "http" else await self.app(
            scope, receive, send
        )
