"""`GET /search`: the same JSON answer as `jsearch search --json`."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import EngineDep, ReadKeyDep
from search.engine import MAX_K
from search.filters import Filters

router = APIRouter(tags=["検索 / search"])

ERRORS = {422: {"description": "入力の誤り / invalid input"}, 401: {"description": "閲覧キーが必要 / read key needed"}}


@router.get("/search", responses=ERRORS, summary="文章と自治体を探す / find passages and municipalities")
def search(engine: EngineDep, _: ReadKeyDep,
           q: Annotated[str, Query(description="検索語（1,000 文字まで）/ query")],
           k: Annotated[int, Query(ge=1, le=MAX_K, description="文章の件数 / passages")] = 10,
           mode: Annotated[Literal["hybrid", "dense", "lexical"], Query(description="検索方式 / mode")] = "hybrid",
           prefecture: Annotated[str | None, Query(description="都道府県名（例: 東京都）")] = None,
           municipality: Annotated[str | None, Query(description="団体コード 5〜6 桁 / code")] = None,
           source: Annotated[str | None, Query(description="掲載元 / source")] = None,
           date_from: Annotated[str | None, Query(description="掲載日の下限 YYYY-MM-DD")] = None,
           date_to: Annotated[str | None, Query(description="掲載日の上限 YYYY-MM-DD")] = None) -> JSONResponse:
    """質問に答える文章と、その事例の自治体を返します / the passages that answer and their municipalities."""
    filters = Filters(prefecture or None, municipality or None, source or None, date_from or None, date_to or None)
    return JSONResponse(engine.search(q, k, mode, filters))
