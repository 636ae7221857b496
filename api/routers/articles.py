"""`/articles`: list, read, add (JSON or an uploaded file) and delete articles; each write is a new generation."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from api.deps import ApiError, EngineDep, ReadKeyDep, SettingsDep, WriteKeyDep
from corpus.article import Article, article_id
from corpus.loaders import parse_bytes, with_id
from corpus.metadata import find_urls, parse_date
from indexer import build
from search.engine import Engine

router = APIRouter(tags=["記事 / articles"])

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ArticleId = Annotated[str, Path(description="記事 ID（16 桁の英数字）/ article id")]
UPLOAD_FIELDS = ("title", "source", "published", "url")


class ArticleIn(BaseModel):
    """An article sent as JSON."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=500, description="題名 / title")
    body: str = Field(min_length=1, description="本文 / text")
    source: str = Field("", max_length=200, description="掲載元 / source")
    published: str | None = Field(None, description="掲載日 YYYY-MM-DD / date")
    url: str = Field("", max_length=2000, description="元記事の URL（http/https）")

    @field_validator("published")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return checked_date(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checked_url(value)


def checked_url(value: str) -> str:
    """Only http(s) links: a `javascript:` URL would run when a reader clicks the title."""
    if value and not re.match(r"^https?://[^\s<>\"]+$", value, re.I):
        raise ValueError("URL は http:// か https:// で始めてください / the url must start with http:// or https://")
    return value


def checked_date(value: str | None) -> str | None:
    """ISO date from `2024-05-01`, `2024.5.1` or `2024年5月1日`; a date that does not exist is refused."""
    if not value:
        return None
    iso = parse_date(value)
    try:
        return date.fromisoformat(iso or "").isoformat()
    except ValueError:
        raise ValueError(f"日付の形式が正しくありません: {value}（YYYY-MM-DD） / invalid date {value!r}; use YYYY-MM-DD") from None


def _unknown(article: str) -> ApiError:
    return ApiError(404, "not_found", "id", f"記事が見つかりません: {article[:80]}", f"no article with id {article[:80]!r}")


def _row(engine: Engine, article: str):
    if not re.match(ID_PATTERN, article):
        raise _unknown(article)
    row = engine.generation.conn.execute("SELECT * FROM articles WHERE id = ?", (article,)).fetchone()
    if row is None:
        raise _unknown(article)
    return row


LIST_FIELDS = ("id", "title", "source", "published", "url", "chunks")


@router.get("/articles", summary="記事の一覧 / list articles")
def list_articles(engine: EngineDep, _: ReadKeyDep,
                  offset: Annotated[int, Query(ge=0, description="先頭から何件飛ばすか / skip")] = 0,
                  limit: Annotated[int, Query(ge=1, le=200, description="件数 / page size")] = 50) -> dict:
    """掲載日の新しい順 / newest first."""
    generation = engine.generation
    conn = generation.conn
    total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    rows = conn.execute(f"SELECT {', '.join(LIST_FIELDS)} FROM articles ORDER BY published IS NULL, published DESC, "
                        "title, id LIMIT ? OFFSET ?", (limit, offset)).fetchall()
    return {"generation": generation.name, "total": total, "offset": offset, "limit": limit,
            "articles": [{k: r[k] for k in LIST_FIELDS} for r in rows]}


@router.get("/articles/{article_id}", summary="記事と文章 / one article with its passages",
            responses={404: {"description": "記事がない / unknown id"}})
def get_article(engine: EngineDep, _: ReadKeyDep, article_id: ArticleId) -> dict:
    """本文と、索引された文章（自治体の言及つき）/ the text and its indexed passages with their places."""
    conn = engine.generation.conn
    row = _row(engine, article_id)
    chunks = conn.execute("SELECT row, id, ord, start, end, heading, text, url FROM chunks WHERE article_id = ? "
                          "ORDER BY ord", (article_id,)).fetchall()
    places: dict[int, list[dict]] = {}
    if chunks:
        marks = ",".join("?" * len(chunks))
        for m in conn.execute(f"SELECT * FROM mentions WHERE row IN ({marks}) ORDER BY row, start",
                              [c["row"] for c in chunks]):
            places.setdefault(m["row"], []).append(
                {k: m[k] for k in ("code", "name", "prefecture", "level", "role", "lat", "lon")})
    return {**{k: row[k] for k in (*LIST_FIELDS, "text")}, "urls": _urls(row["urls"]),
            "passages": [{**{k: c[k] for k in ("id", "ord", "start", "end", "heading", "text", "url")},
                          "municipalities": places.get(c["row"], [])} for c in chunks]}


def _urls(stored: str) -> list[str]:
    return list(json.loads(stored or "[]"))


@router.post("/articles", status_code=201, summary="記事を追加・更新 / add or replace an article",
             responses={201: {"description": "追加した記事と新しい世代 / the article id and generation"},
                        401: {"description": "API キーが違う / bad key"}, 403: {"description": "書き込み無効"},
                        409: {"description": "別の更新が実行中 / another writer"},
                        413: {"description": "大きすぎる / too large"}, 415: {"description": "形式が違う"},
                        422: {"description": "入力の誤り / invalid input"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": ArticleIn.model_json_schema()},
                 "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                     "file": {"type": "string", "format": "binary", "description": ".txt .md .html .pdf"},
                     **{f: {"type": "string"} for f in UPLOAD_FIELDS}}}}}}})
async def add_article(request: Request, _: WriteKeyDep, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """JSON `{title, body, source, published, url}` か、ファイル（file）のアップロード。すぐ検索できます。"""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        article = await _from_json(request)
    elif kind == "multipart/form-data":
        article = await _from_upload(request)
    else:
        raise ApiError(415, "unsupported_media_type", "content-type",
                       "application/json か multipart/form-data で送ってください",
                       "send application/json or multipart/form-data")
    report = await run_in_threadpool(
        build.apply, settings.index_dir, build.Change(upsert=(article,)), engine.embedder,
        lock_timeout=settings.lock_timeout)
    await run_in_threadpool(request.app.state.refresher, True)
    status = "added" if article.id in report.added else "updated" if article.id in report.updated else "unchanged"
    return JSONResponse({"id": article.id, "generation": report.generation, "status": status, "title": article.title,
                         "articles": report.articles, "chunks": report.chunks},
                        status_code=201, headers={"Location": f"/articles/{article.id}"})


async def _from_json(request: Request) -> Article:
    try:
        data = ArticleIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    text = data.body.replace("\r\n", "\n")
    return Article(id=article_id(data.url or f"upload:{data.title}"), title=data.title, text=text,
                   source=data.source, published=data.published, url=data.url, urls=find_urls(text))


async def _from_upload(request: Request) -> Article:
    try:
        form = await request.form(max_files=1, max_fields=len(UPLOAD_FIELDS))
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "detail", None) or getattr(exc, "message", "")
        raise ApiError(422, "invalid_form", "file", f"フォームを読めません: {detail}", f"cannot read the form: {detail}")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ApiError(422, "missing_parameter", "file", "file を指定してください", "file is required")
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    data = await upload.read()
    article = parse_bytes(data, name, key=f"upload/{name}")
    extra = {f: str(form.get(f) or "").strip() for f in UPLOAD_FIELDS if str(form.get(f) or "").strip()}
    try:
        if "published" in extra:
            extra["published"] = checked_date(extra["published"])
        if "url" in extra:
            checked_url(extra["url"])
    except ValueError as exc:
        field = "published" if "date" in str(exc) else "url"
        ja, en = str(exc).split(" / ", 1)
        raise ApiError(422, "invalid_parameter", field, ja, en) from None
    merged = replace(article, **extra)
    return with_id(merged, extra["url"]) if extra.get("url") else merged


@router.delete("/articles/{article_id}", summary="記事を削除 / delete an article",
               responses={404: {"description": "記事がない / unknown id"}, 409: {"description": "最後の記事など"}})
def delete_article(request: Request, _: WriteKeyDep, engine: EngineDep, settings: SettingsDep,
                   article_id: ArticleId) -> dict:
    """記事を索引から外します（新しい世代）/ remove the article as a new generation."""
    _row(engine, article_id)
    report = build.apply(settings.index_dir, build.Change(remove=(article_id,)), engine.embedder,
                         lock_timeout=settings.lock_timeout)
    request.app.state.refresher(force=True)
    if article_id not in report.removed:  # removed meanwhile by another writer
        raise _unknown(article_id)
    return {"id": article_id, "generation": report.generation, "status": "removed", "articles": report.articles,
            "chunks": report.chunks}
