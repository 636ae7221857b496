"""`POST /reindex` runs a full reindex in a background thread, one at a time; `GET /jobs/{id}` follows it."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.deps import ApiError, ReadKeyDep, WriteKeyDep
from common.errors import UserError
from indexer.write import indexing

router = APIRouter(tags=["索引ジョブ / jobs"])
log = logging.getLogger("jsearch.api")

KEEP = 100
STAGES = {
    "queued": 0.0,
    "crawling": 0.05,
    "loading": 0.05,
    "indexing": 0.2,
    "switching": 0.95,
    "done": 1.0,
}
STAGE_JA = {
    "queued": "待機中",
    "crawling": "Web から取得中",
    "loading": "記事を読み込み中",
    "indexing": "索引を作成中",
    "switching": "新しい索引に切り替え中",
    "done": "完了",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One background job as `GET /jobs/{id}` shows it."""

    id: str
    kind: str
    status: str = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    progress: dict = field(
        default_factory=lambda: {"stage": "queued", "stage_ja": STAGE_JA["queued"], "fraction": 0.0}
    )
    result: dict | None = None
    error: dict | None = None

    def stage(self, name: str) -> None:
        self.progress = {"stage": name, "stage_ja": STAGE_JA[name], "fraction": STAGES[name]}


class Jobs:
    """The jobs of this server process; at most one runs at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: Job | None = None

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, kind: str, work: Callable[[Job], dict]) -> Job:
        """Start `work` in a thread, or refuse with 409 while another job runs."""
        with self._lock:
            if self._running is not None:
                raise ApiError(
                    409,
                    "job_running",
                    "",
                    f"別のジョブが実行中です: {self._running.id}",
                    f"another job is running: {self._running.id}",
                )
            job = self._running = Job(uuid.uuid4().hex[:16], kind)
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-KEEP]:
                del self._jobs[old]
        threading.Thread(
            target=self._run, args=(job, work), name=f"job-{job.id}", daemon=True
        ).start()
        return job

    def _run(self, job: Job, work: Callable[[Job], dict]) -> None:
        job.status, job.started = "running", _now()
        try:
            job.result = work(job)
            job.status = "succeeded"
            job.stage("done")
        except UserError as exc:
            job.status, job.error = (
                "failed",
                {"code": type(exc).__name__, "ja": exc.ja, "en": exc.en},
            )
        except Exception as exc:  # noqa: BLE001 - a job must always end in a state a client can read
            log.exception("ジョブが失敗しました / job failed")
            job.status, job.error = (
                "failed",
                {
                    "code": "internal_error",
                    "ja": "内部エラーで失敗しました",
                    "en": f"internal error: {type(exc).__name__}",
                },
            )
        finally:
            job.finished = _now()
            with self._lock:
                self._running = None


def reindex(request: Request, prune: bool, rebuild: bool) -> Callable[[Job], dict]:
    """The work of a full reindex from the sources recorded in the manifest."""
    state = request.app.state
    settings = state.settings

    def work(job: Job) -> dict:
        job.stage("loading")
        store = settings.store_spec()
        sources = indexing.default_sources(settings.index_dir, [], store)
        loaded = indexing.load(sources)
        job.stage("indexing")
        change = indexing.reindex_change(loaded.articles, sources, prune, rebuild)
        report = state.writer.submit(
            change
        )  # the server's one writer: switched to, then merged as needed
        job.stage("switching")
        state.refresher(force=True)
        return indexing.summary(report, settings.index_dir, loaded.errors, store)

    return work


def _view(job: Job) -> dict:
    return asdict(job)


@router.post(
    "/reindex",
    status_code=202,
    summary="全件を索引し直す / reindex everything in the background",
    responses={
        202: {
            "description": "始めたジョブ / the job started",
            "links": {
                "FollowJob": {
                    "operationId": "get_job_jobs__job_id__get",
                    "parameters": {"job_id": "$response.body#/id"},
                }
            },
        },
        409: {"description": "別のジョブが実行中 / a job is running"},
    },
)
def start_reindex(
    request: Request,
    _: WriteKeyDep,
    prune: Annotated[
        bool, Query(description="元ファイルが消えた記事を削除 / drop articles whose files are gone")
    ] = True,
    rebuild: Annotated[
        bool,
        Query(
            description="ソースだけから作り直す（API で追加した記事も消える）/ "
            "from the sources only"
        ),
    ] = False,
) -> JSONResponse:
    """マニフェストに記録された元フォルダから読み直します。進み具合は GET /jobs/{id} で。"""
    job = request.app.state.jobs.start("reindex", reindex(request, prune, rebuild))
    return JSONResponse(_view(job), status_code=202, headers={"Location": f"/jobs/{job.id}"})


@router.get(
    "/jobs/{job_id}",
    summary="ジョブの状態 / job status",
    responses={404: {"description": "ジョブがない"}},
)
def get_job(
    request: Request,
    _: ReadKeyDep,
    job_id: Annotated[str, Path(description="POST /reindex が返した id")],
) -> dict:
    """status: queued | running | succeeded | failed、progress、result（索引の要約）か error。"""
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(
            404,
            "not_found",
            "id",
            f"ジョブが見つかりません: {job_id[:80]}",
            f"no job with id {job_id[:80]!r}",
        )
    return _view(job)
