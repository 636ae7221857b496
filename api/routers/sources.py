"""`/sources`: the web sources the server crawls (list; with the write key add, remove, crawl now as a job)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api import crawling, schemas
from api.deps import ApiError, ReadKeyDep, WriteKeyDep
from api.routers.jobs import Job, _view
from api.settings import Settings
from common.errors import UserError
from corpus.crawl import sources, state
from indexer.write import indexing

router = APIRouter(tags=["ソース / sources"])
log = logging.getLogger("jsearch.api")

SOURCE_ID = r"^[0-9a-f]{12}$"
SourceId = Annotated[
    str,
    Path(description="ソース ID（12 桁）/ source id", json_schema_extra={"pattern": SOURCE_ID}),
]
SOURCE_LINKS = {
    "links": {
        "DeleteSource": {
            "operationId": "delete_source_sources__source_id__delete",
            "parameters": {"source_id": "$response.body#/id"},
        },
        "CrawlSource": {
            "operationId": "crawl_source_sources__source_id__crawl_post",
            "parameters": {"source_id": "$response.body#/id"},
        },
    }
}


def _conn(request: Request):
    return state.connect(request.app.state.settings.index_dir)


def _unknown(source_id: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        "id",
        f"ソースが見つかりません: {source_id[:80]}",
        f"no source with id {source_id[:80]!r}",
    )


def _get(request: Request, source_id: str) -> sources.Source:
    conn = _conn(request)
    try:
        return sources.get(conn, source_id)
    except sources.UnknownSource:
        raise _unknown(source_id) from None
    finally:
        conn.close()


@router.get(
    "/sources",
    summary="ソースの一覧 / list sources",
    responses={200: {"model": schemas.SourcesPage}, **schemas.errors(401)},
)
def list_sources(request: Request, _: ReadKeyDep) -> dict:
    """登録済みのソースと、最後に取り込んだ時刻 / the registered sources and when each was last crawled."""
    conn = _conn(request)
    try:
        return {"sources": [s.view() for s in sources.listed(conn)]}
    finally:
        conn.close()


@router.post(
    "/sources",
    status_code=201,
    summary="ソースを登録 / register a source",
    responses={
        201: {
            "model": schemas.Source,
            "description": "登録したソース / the source",
            **SOURCE_LINKS,
        },
        **schemas.errors(400, 401, 403, 422),
    },
)
def add_source(request: Request, _: WriteKeyDep, body: schemas.SourceIn) -> JSONResponse:
    """フィード・サイトマップ・一覧ページの URL を登録します（同じ URL なら名前と間隔を更新）。"""
    conn = _conn(request)
    try:
        found = sources.add(conn, body.url, body.every, body.name)
    finally:
        conn.close()
    return JSONResponse(found.view(), status_code=201, headers={"Location": "/sources"})


@router.delete(
    "/sources/{source_id}",
    summary="ソースの登録を外す / remove a source",
    responses={200: {"model": schemas.Source}, **schemas.errors(401, 403, 404, 422)},
)
def delete_source(request: Request, _: WriteKeyDep, source_id: SourceId) -> dict:
    """取り込んだ記事は索引に残ります / the articles it brought stay in the index."""
    conn = _conn(request)
    try:
        return sources.remove(conn, _get(request, source_id).id).view()
    finally:
        conn.close()


def _live(settings: Settings) -> Callable[[Sequence[str]], set[str]]:
    def live(ids: Sequence[str]) -> set[str]:
        try:
            return indexing.live_ids(settings.index_dir, list(ids), settings.store_spec())
        except UserError:
            return set()

    return live


def crawl_work(request: Request, url: str) -> Callable[[Job], dict]:
    """The work of a crawl job: one pass over the source, written through the server's one writer."""
    app_state = request.app.state
    settings = app_state.settings

    def work(job: Job) -> dict:
        job.stage("crawling")
        done = crawling.into_index(
            settings.index_dir, [url], settings, app_state.writer.submit, _live(settings)
        )
        job.stage("switching")
        app_state.refresher(force=True)
        return done

    return work


@router.post(
    "/sources/{source_id}/crawl",
    status_code=202,
    summary="ソースを今すぐ取り込む / crawl a source now, as a job",
    responses={
        202: {
            "model": schemas.Job,
            "description": "始めたジョブ / the job started",
            "links": {
                "FollowJob": {
                    "operationId": "get_job_jobs__job_id__get",
                    "parameters": {"job_id": "$response.body#/id"},
                }
            },
        },
        **schemas.errors(401, 403, 404, 409, 422),
    },
)
def crawl_source(request: Request, _: WriteKeyDep, source_id: SourceId) -> JSONResponse:
    """進み具合と結果（jsearch crawl --json と同じ要約）は GET /jobs/{id} で / follow it at GET /jobs/{id}."""
    found = _get(request, source_id)
    job = request.app.state.jobs.start("crawl", crawl_work(request, found.url))
    return JSONResponse(_view(job), status_code=202, headers={"Location": f"/jobs/{job.id}"})


class Background:
    """`JSEARCH_CRAWL=true`: a thread that crawls the due sources every `crawl_check_seconds`."""

    def __init__(self, app_state, settings: Settings) -> None:
        self.app_state, self.settings = app_state, settings
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="crawl-sources", daemon=True)
        self.last: dict | None = None

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=self.settings.crawl_timeout + 5)

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.last = crawling.into_index(
                    self.settings.index_dir,
                    [],
                    self.settings,
                    self.app_state.writer.submit,
                    _live(self.settings),
                )
                if self.last["generation"]:
                    self.app_state.refresher(force=True)
            except Exception:  # noqa: BLE001 - the server keeps serving; the next round tries again
                log.exception("ソースの取り込みに失敗しました / crawling the sources failed")
            self.stop.wait(self.settings.crawl_check_seconds)


async def start_background(app_state, settings: Settings) -> Background | None:
    if not settings.crawl:
        return None
    background = Background(app_state, settings)
    await run_in_threadpool(background.start)
    return background
