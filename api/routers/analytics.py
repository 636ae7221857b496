"""`GET /analytics` (write key): what staff searched for, from the search log; `/admin` shows it as a page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from api import schemas
from api.deps import ApiError, WriteKeyDep
from api.log import analytics
from api.responses import JSONAnswer
from api.routers.pages import PAGE_POLICY, STATIC
from api.schemas import Analytics, errors
from search.filters import DATE_SCHEMA

router = APIRouter(tags=["検索ログ / search log"])
pages = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 30


def _day(value: str | None, field: str, default: date) -> str:
    if not value:
        return default.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ApiError(
            422,
            "invalid_date",
            field,
            f"日付の形式が正しくありません: {value[:40]}（YYYY-MM-DD）",
            f"invalid date {value[:40]!r}; use YYYY-MM-DD",
        ) from None


@router.get(
    "/analytics",
    summary="検索ログの集計 / search analytics",
    openapi_extra={"x-write-key": True},
    responses={
        200: {
            "model": Analytics,
            "description": "JSON（既定）か CSV（format=csv: 期間の検索ログ 1 件 1 行）/ JSON, or the log as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **errors(401, 422, 503),
        403: {"model": schemas.ErrorAnswer, "description": "書き込み無効 / writes disabled"},
    },
)
def get_analytics(
    request: Request,
    _: WriteKeyDep,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="開始日 YYYY-MM-DD（既定: 30 日前）",
            json_schema_extra=DATE_SCHEMA,
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(description="終了日 YYYY-MM-DD（既定: 今日、UTC）", json_schema_extra=DATE_SCHEMA),
    ] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json か csv（Excel 用、BOM つき UTF-8）")
    ] = "json",
) -> Response:
    """上位の検索語、0 件・弱い答えの検索語、日ごとの検索数、よく答えに出た自治体。
    / top queries, zero-hit and weak-answer queries, searches per day, municipalities most asked about."""
    today = datetime.now(UTC).date()
    end = _day(to, "to", today)
    try:
        month_before = date.fromisoformat(end) - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # the first days of year 1
        month_before = date.min
    start = _day(from_, "from", month_before)
    if start > end:
        raise ApiError(
            422,
            "invalid_range",
            "from",
            f"期間の開始 {start} が終了 {end} より後です",
            f"the range is empty: {start} is after {end}",
        )
    searchlog = request.app.state.searchlog
    searchlog.flush(2.0)  # what was just searched is counted
    if format == "csv":
        return Response(
            analytics.to_csv(searchlog.path, start, end),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="searchlog_{start}_{end}.csv"'},
        )
    return JSONAnswer(analytics.report(searchlog.path, start, end))


@pages.get("/admin")
def admin_page() -> FileResponse:
    """The Japanese admin page: the analytics with a chart drawn by its own script (no CDN)."""
    return FileResponse(
        STATIC / "admin.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"},
    )
