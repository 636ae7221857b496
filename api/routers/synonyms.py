"""`/synonyms`: the organisation's own synonym groups, read by anyone who may search, replaced with the write key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import EngineDep, ReadKeyDep, SettingsDep, WriteKeyDep
from api.responses import JSONAnswer
from api.schemas import Synonyms, SynonymsIn, errors
from indexer.stores.factory import open_store
from indexer.write import synonyms

router = APIRouter(tags=["同義語 / synonyms"])


@router.get(
    "/synonyms",
    summary="同義語の一覧 / the own synonym groups",
    responses={200: {"model": Synonyms}, **errors(401, 503)},
)
def get_synonyms(engine: EngineDep, _: ReadKeyDep) -> Response:
    """検索で使う組織独自の同義語グループ（SudachiDict の同義語に加えて）/ the organisation's own groups, used
    beside SudachiDict's synonyms; they belong to the served commit point."""
    view = engine.view
    return JSONAnswer({"groups": view.manifest.synonyms, "generation": view.name})


@router.put(
    "/synonyms",
    summary="同義語を置き換える / replace the own synonym groups",
    openapi_extra={"x-write-key": True},
    responses={200: {"model": Synonyms}, **errors(400, 401, 403, 409, 413, 422, 503)},
)
async def put_synonyms(
    request: Request, _: WriteKeyDep, settings: SettingsDep, body: SynonymsIn
) -> Response:
    """グループ全体を置き換え、新しい世代として保存します。再索引も再起動も不要で、次の検索から使われます。
    / replace every group as a new commit point: the next search uses them, no reindex, no restart."""
    groups = synonyms.checked(body.groups)
    store = open_store(settings.store_spec(), settings.index_dir)
    generation = await run_in_threadpool(store.set_synonyms, groups, settings.lock_timeout)
    await run_in_threadpool(request.app.state.refresher, True)
    return JSONAnswer({"groups": groups, "generation": generation})
