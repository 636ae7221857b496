"""The published OpenAPI document: what FastAPI derives from the routes, plus the rules it cannot see there —
optional credentials on reads, the statuses the key checks answer, one error model, and the links that
connect an answer to the operations that take its ids (Schemathesis checks it against the server in CI)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorAnswer"}
WORDS = {
    400: "リクエストが正しくない / bad request",
    401: "キーが必要か違う / a key is needed or wrong",
    403: "書き込みが無効（JSEARCH_API_KEY 未設定）/ writes disabled",
    404: "見つからない / not found",
    409: "別の更新が実行中 / another writer or job",
    413: "大きすぎる / too large",
    415: "形式が違う / unsupported media type",
    422: "入力の誤り / invalid input",
    503: "索引を読めない / index unavailable",
    507: "ディスクがいっぱい / the disk is full",
}
METHODS = ("get", "put", "post", "delete", "patch")


def _reads_and_writes(operation: dict[str, Any], method: str) -> None:
    """Reads are open unless JSEARCH_READ_KEY is set, so their credential is optional; writes need the key
    (401 without or with a wrong one, 403 when the server has none configured)."""
    if "security" not in operation:
        return
    # x-write-key: a GET that needs the write key (GET /analytics); x-read-key: a POST that needs only the read
    # key, as the search it stores (POST /saved-searches)
    write_key, read_key = operation.pop("x-write-key", False), operation.pop("x-read-key", False)
    if (method == "get" or read_key) and not write_key:
        operation["security"] = [{}, *operation["security"]]
        statuses: tuple[int, ...] = (401,)
    else:
        statuses = (401, 403)
    for status in statuses:
        operation["responses"].setdefault(str(status), {"description": WORDS[status]})


def _one_error_model(operation: dict[str, Any]) -> None:
    """Every 4xx/5xx answer is `{"error": {code, field, ja, en}}`."""
    for status, response in operation["responses"].items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": ERROR_REF}}


def contract(app: FastAPI) -> dict[str, Any]:
    """The document served at /openapi.json, built once."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for item in schema["paths"].values():
        for method, operation in item.items():
            if method in METHODS:
                _reads_and_writes(operation, method)
                _one_error_model(operation)
    app.openapi_schema = schema
    return schema
