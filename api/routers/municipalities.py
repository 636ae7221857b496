"""`GET /municipalities/{code}`: a municipality's (or prefecture's) page, the passages that name it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import EngineDep, ReadKeyDep
from api.responses import JSONAnswer
from api.schemas import MAX_OFFSET, PlacePage, errors
from search.places import MAX_LIMIT

router = APIRouter(tags=["自治体 / municipalities"])


@router.get(
    "/municipalities/{code}",
    summary="自治体の事例 / a municipality's cases",
    responses={200: {"model": PlacePage}, **errors(401, 404, 422, 503)},
)
def municipality(
    engine: EngineDep,
    _: ReadKeyDep,
    code: Annotated[
        str,
        Path(
            description="6 桁の団体コード（検査数字つき）/ 6-digit code, e.g. 442119",
            json_schema_extra={"pattern": "^[0-9]{6}$"},
            examples=["442119"],
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="件数 / page size")] = 20,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="先頭から何件飛ばすか / skip")
    ] = 0,
) -> JSONAnswer:
    """名前・都道府県・位置と、その自治体を挙げる文章（主題のものが先、新しい順、名前を強調）
    / its facts and the passages naming it: about it first, then mentions, newest first, the name highlighted."""
    return JSONAnswer(engine.place_page(code, limit, offset))
