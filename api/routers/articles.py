"""`/articles`: list, read, add (JSON or an uploaded file) and delete articles; each write is a new commit point."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from api import schemas
from api.deps import ApiError, EngineDep, ReadKeyDep, WriteKeyDep
from api.schemas import MAX_OFFSET, ArticleIn, checked_date, checked_text, checked_url
from corpus.article import Article
from corpus.identity import upload_id
from corpus.loaders import parse_bytes
from corpus.metadata import find_urls
from indexer.write import changes
from search.engine import Engine
from search.passages import PLACE_FIELDS

router = APIRouter(tags=["記事 / articles"])

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ArticleId = Annotated[
    str,
    Path(
        description="記事 ID（16 桁の英数字）/ article id",
        json_schema_extra={"pattern": ID_PATTERN},
    ),
]
UPLOAD_FIELDS = ("title", "source", "published", "url")


def _unknown(article: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        "id",
        f"記事が見つかりません: {article[:80]}",
        f"no article with id {article[:80]!r}",
    )


def _found(engine: Engine, article: str):
    """The part holding the live article and its row; 404 when the served index has no such article."""
    found = engine.view.find_article(article) if re.match(ID_PATTERN, article) else None
    if found is None:
        raise _unknown(article)
    return found


LIST_FIELDS = ("id", "title", "source", "published", "url", "chunks")


@router.get(
    "/articles",
    summary="記事の一覧 / list articles",
    responses={200: {"model": schemas.ArticlesPage}, **schemas.errors(401, 422, 503)},
)
def list_articles(
    engine: EngineDep,
    _: ReadKeyDep,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="先頭から何件飛ばすか / skip")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=200, description="件数 / page size")] = 50,
) -> dict:
    """掲載日の新しい順 / newest first."""
    served = engine.view
    total = served.manifest.articles
    rows = served.articles_page(LIST_FIELDS, offset, limit)
    return {
        "generation": served.name,
        "total": total,
        "offset": offset,
        "limit": limit,
        "articles": [{k: r[k] for k in LIST_FIELDS} for r in rows],
    }


@router.get(
    "/articles/{article_id}",
    summary="記事と文章 / one article with its passages",
    responses={200: {"model": schemas.Article}, **schemas.errors(401, 404, 503)},
)
def get_article(engine: EngineDep, _: ReadKeyDep, article_id: ArticleId) -> dict:
    """本文と、索引された文章（自治体の言及つき）/ the text and its indexed passages with their places."""
    return article_answer(engine, article_id)


def article_answer(engine: Engine, article_id: str) -> dict:
    """One article with its passages and their places (the 404 user error when the index has no such id)."""
    view = engine.view.article_view(article_id) if re.match(ID_PATTERN, article_id) else None
    if view is None:
        raise _unknown(article_id)
    row, chunks, places = view
    return {
        **{k: row[k] for k in (*LIST_FIELDS, "text")},
        "urls": _urls(row["urls"]),
        "passages": [
            {
                **{k: c[k] for k in ("id", "ord", "start", "end", "heading", "text", "url")},
                "municipalities": [
                    {k: m[k] for k in PLACE_FIELDS} for m in places.get(c["row"], [])
                ],
            }
            for c in chunks
        ],
    }


def _urls(stored: str | list) -> list[str]:
    return list(stored) if isinstance(stored, list) else list(json.loads(stored or "[]"))


ARTICLE_LINKS = {
    "links": {
        "GetArticle": {
            "operationId": "get_article_articles__article_id__get",
            "parameters": {"article_id": "$response.body#/id"},
        },
        "ReplaceArticle": {
            "operationId": "replace_article_articles__article_id__put",
            "parameters": {"article_id": "$response.body#/id"},
        },
        "DeleteArticle": {
            "operationId": "delete_article_articles__article_id__delete",
            "parameters": {"article_id": "$response.body#/id"},
        },
    }
}

BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ArticleIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "名前が .txt .md .html .pdf で終わるファイル / a file named "
                            "*.txt, *.md, *.html or *.pdf",
                        },
                        "title": {"type": "string", "pattern": schemas.LINE_PATTERN},
                        "source": {"type": "string", "pattern": schemas.LINE_PATTERN},
                        "published": {"type": "string", "pattern": schemas.PUBLISHED_PATTERN},
                        "url": {"type": "string", "pattern": schemas.URL_PATTERN},
                    },
                }
            },
        },
    }
}


@router.post(
    "/articles",
    status_code=201,
    summary="記事を追加 / add an article",
    responses={
        200: {
            "description": "同じ内容がすでにある、または同じ url の記事を置き換えた / unchanged or "
            "replaced by url",
            **ARTICLE_LINKS,
        },
        201: {
            "description": "追加した記事と新しい世代 / the article id and generation",
            **ARTICLE_LINKS,
        },
        401: {"description": "API キーが違う / bad key"},
        403: {"description": "書き込み無効"},
        409: {"description": "別の更新が実行中 / another writer"},
        413: {"description": "大きすぎる / too large"},
        415: {"description": "形式が違う"},
        422: {"description": "入力の誤り / invalid input"},
    },
    openapi_extra=BODY_DOC,
)
async def add_article(request: Request, _: WriteKeyDep) -> JSONResponse:
    """JSON `{title, body, source, published, url}` か、ファイル（file）のアップロード。すぐ検索できます。

    送るたびに新しい記事になります（同じ内容の再送は同じ記事）。`url` が同じなら、その記事を置き換えます。
    Each post creates an article (the same content again is the same article); a post with the `url` of an
    article replaces it. Replace any article explicitly with `PUT /articles/{id}`.
    """
    article = await _article_from(request)
    return await _write(request, article)


@router.put(
    "/articles/{article_id}",
    summary="記事を置き換える / replace an article",
    responses={
        200: {"description": "置き換えた記事 / the replaced article", **ARTICLE_LINKS},
        404: {"description": "記事がない / unknown id"},
        409: {"description": "別の更新が実行中"},
        413: {"description": "大きすぎる / too large"},
        422: {"description": "入力の誤り"},
    },
    openapi_extra=BODY_DOC,
)
async def replace_article(
    request: Request, _: WriteKeyDep, engine: EngineDep, article_id: ArticleId
) -> JSONResponse:
    """記事 ID の記事を、送った内容（POST と同じ形式）で置き換えます / replace the article with this id."""
    _found(engine, article_id)
    article = replace(await _article_from(request), id=article_id)
    return await _write(request, article)


async def _article_from(request: Request) -> Article:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return await _from_json(request)
    if kind == "multipart/form-data":
        return await _from_upload(request)
    raise ApiError(
        415,
        "unsupported_media_type",
        "content-type",
        "application/json か multipart/form-data で送ってください",
        "send application/json or multipart/form-data",
    )


async def _write(request: Request, article: Article) -> JSONResponse:
    report = await run_in_threadpool(
        request.app.state.writer.submit, changes.Change(upsert=(article,))
    )
    status = (
        "added"
        if article.id in report.added
        else "updated"
        if article.id in report.updated
        else "unchanged"
    )
    return JSONResponse(
        {
            "id": article.id,
            "generation": report.generation,
            "status": status,
            "title": article.title,
            "articles": report.articles,
            "chunks": report.chunks,
        },
        status_code=201 if status == "added" else 200,
        headers={"Location": f"/articles/{article.id}"},
    )


async def _from_json(request: Request) -> Article:
    try:
        data = ArticleIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None
    text = data.body.replace("\r\n", "\n")
    article = Article(
        id="",
        title=data.title,
        text=text,
        source=data.source,
        published=data.published,
        url=data.url,
        urls=find_urls(text),
    )
    return replace(article, id=upload_id(article))


async def _from_upload(request: Request) -> Article:
    try:
        form = await request.form(max_files=1, max_fields=len(UPLOAD_FIELDS))
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "detail", None) or getattr(exc, "message", "")
        raise ApiError(
            422,
            "invalid_form",
            "file",
            f"フォームを読めません: {detail}",
            f"cannot read the form: {detail}",
        ) from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ApiError(
            422, "missing_parameter", "file", "file を指定してください", "file is required"
        )
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    data = await upload.read()
    article = await run_in_threadpool(
        parse_bytes, data, name, f"upload/{name}"
    )  # a big PDF must not stall others
    extra: dict[str, Any] = {
        f: str(form.get(f) or "").strip() for f in UPLOAD_FIELDS if str(form.get(f) or "").strip()
    }
    checks: dict[str, Callable[[Any], Any]] = {"published": checked_date, "url": checked_url}
    for field, value in list(extra.items()):
        try:
            extra[field] = checks.get(field, lambda v: v)(checked_text(value))
        except ValueError as exc:
            ja, en = str(exc).split(" / ", 1)
            raise ApiError(422, "invalid_parameter", field, ja, en) from None
    merged = replace(article, **extra)
    return replace(merged, id=upload_id(merged))


@router.delete(
    "/articles/{article_id}",
    summary="記事を削除 / delete an article",
    responses={
        404: {"description": "記事がない / unknown id"},
        409: {"description": "最後の記事など"},
    },
)
def delete_article(
    request: Request, _: WriteKeyDep, engine: EngineDep, article_id: ArticleId
) -> dict:
    """記事を索引から外します（新しい世代）/ remove the article as a new commit point."""
    _found(engine, article_id)
    report = request.app.state.writer.submit(changes.Change(remove=(article_id,)))
    if article_id not in report.removed:  # removed meanwhile by another writer
        raise _unknown(article_id)
    return {
        "id": article_id,
        "generation": report.generation,
        "status": "removed",
        "articles": report.articles,
        "chunks": report.chunks,
    }
