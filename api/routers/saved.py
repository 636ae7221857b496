"""`/saved-searches`: save a search, read or delete it, and its Atom feed of the new articles that answer it."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import ApiError, EngineDep, ReadKeyDep
from api.responses import JSONAnswer
from api.saved.feed import atom
from api.saved.saving import save
from api.saved.store import Saved
from api.schemas import Removed, SavedSearch, SavedSearchIn, errors
from indexer.stores.base import Filters
from search.engine import Engine

router = APIRouter(tags=["保存した検索 / saved searches"])

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SavedId = Annotated[
    str,
    Path(
        description="保存した検索の ID / saved search id", json_schema_extra={"pattern": ID_PATTERN}
    ),
]
FEED_TYPE = "application/atom+xml; charset=utf-8"


def _unknown(search_id: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        "id",
        f"保存した検索が見つかりません: {search_id[:80]}",
        f"no saved search with id {search_id[:80]!r}",
    )


def _found(request: Request, search_id: str) -> Saved:
    """The saved search with this id; 404 for any other (an id of another shape is never looked up)."""
    saved = request.app.state.saved.get(search_id) if re.match(ID_PATTERN, search_id) else None
    if saved is None:
        raise _unknown(search_id)
    return saved


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _answer(request: Request, saved: Saved) -> dict:
    return {
        "id": saved.id,
        "name": saved.name,
        "q": saved.q,
        "filters": saved.filters,
        "created": saved.created,
        "feed_url": f"{_base(request)}/saved-searches/{saved.id}/feed.atom",
        "matches": request.app.state.saved.count(saved.id),
    }


def _save(request: Request, engine: Engine, body: SavedSearchIn) -> Saved:
    f = body.filters
    filters = Filters(
        f.prefecture or None,
        f.municipality or None,
        f.source or None,
        f.date_from or None,
        f.date_to or None,
    )
    state = request.app.state
    return save(state.saved, state.percolator, engine, body.name, body.q, filters)


@router.post(
    "/saved-searches",
    status_code=201,
    summary="検索を保存 / save a search",
    responses={201: {"model": SavedSearch}, **errors(400, 401, 413, 422, 503)},
    openapi_extra={"x-read-key": True},
)
async def save_search(
    request: Request, engine: EngineDep, _: ReadKeyDep, body: SavedSearchIn
) -> Response:
    """検索を保存します。新しい記事がこの検索に答えると、feed_url の Atom フィードに載ります。
    / save a search: new articles that answer it appear in the Atom feed at feed_url."""
    saved = await run_in_threadpool(_save, request, engine, body)
    return JSONAnswer(
        _answer(request, saved),
        status_code=201,
        headers={"Location": f"/saved-searches/{saved.id}"},
    )


@router.get(
    "/saved-searches/{search_id}",
    summary="保存した検索 / a saved search",
    responses={200: {"model": SavedSearch}, **errors(404, 422, 503)},
)
def get_saved(request: Request, search_id: SavedId) -> Response:
    """ID を知っていれば読めます / whoever holds the id may read it."""
    return JSONAnswer(_answer(request, _found(request, search_id)))


@router.delete(
    "/saved-searches/{search_id}",
    summary="保存した検索を削除 / delete a saved search",
    responses={200: {"model": Removed}, **errors(404, 422, 503)},
)
def delete_saved(request: Request, search_id: SavedId) -> Response:
    """検索とそのフィードを削除します / delete the search and its feed."""
    if not re.match(ID_PATTERN, search_id) or not request.app.state.saved.remove(search_id):
        raise _unknown(search_id)
    return JSONAnswer({"id": search_id, "status": "removed"})


@router.get(
    "/saved-searches/{search_id}/feed.atom",
    summary="新着記事の Atom フィード / Atom feed of new articles",
    response_class=Response,
    responses={
        200: {
            "description": "Atom 1.0（新しい順）/ Atom 1.0, newest first",
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        },
        **errors(404, 422, 503),
    },
)
def saved_feed(request: Request, engine: EngineDep, search_id: SavedId) -> Response:
    """保存後に届き、この検索に答える記事 / the articles that arrived after saving and answer the search."""
    saved = _found(request, search_id)
    request.app.state.percolator.catch_up(engine.view)  # writes by the CLI are matched here
    body = atom(saved, request.app.state.saved.hits(search_id), _base(request))
    return Response(body, media_type=FEED_TYPE, headers={"Cache-Control": "no-cache"})
