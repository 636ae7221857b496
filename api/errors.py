"""Every error the HTTP API answers, as one JSON shape: handlers for user errors, validation, HTTP errors, a damaged index and crashes."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ApiError
from common.errors import UserError, error_body
from search.engine import check_request
from search.errors import IndexUnavailable, QueryError

log = logging.getLogger("jsearch.api")

_STATUS = {
    400: ("bad_request", "リクエストが正しくありません", "bad request"),
    404: ("not_found", "ページが見つかりません", "no such page"),
    405: ("method_not_allowed", "このメソッドは使えません", "method not allowed"),
}


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
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
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return _json(exc.status_code, error_body(code, "", ja, en), headers)

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


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route that matched)."""
    path = request.url.path
    methods = {m for regex, served in request.app.state.routes if regex.match(path) for m in served}
    return sorted(methods)


def route_methods(routers: Sequence[Any]) -> list[tuple[Any, set[str]]]:
    """(path regex, methods) of every route of the routers, for the `Allow` header of a 405."""
    return [
        (route.path_regex, set(route.methods))
        for router in routers
        for route in router.routes
        if getattr(route, "methods", None) and getattr(route, "path_regex", None)
    ]


def validation_error(errors: Sequence[Any]) -> ApiError:
    """The first validation problem, worded for people; k and mode reuse the engine's own wording."""
    first: dict[str, Any] = (
        errors[0] if errors else {"type": "value_error", "loc": ("body",), "msg": "invalid"}
    )
    kind, ctx = first.get("type", ""), first.get("ctx") or {}
    given: Any = first.get("input")
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


def too_large(limit: int) -> dict:
    return error_body(
        "body_too_large",
        "body",
        f"リクエストが大きすぎます（上限 {limit:,} バイト）",
        f"the request body is larger than {limit:,} bytes",
    )
