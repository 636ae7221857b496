"""`GET /passages/{id}/similar`: similar cases, the nearest passages of other articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import EngineDep, ReadKeyDep
from api.responses import JSONAnswer
from api.schemas import SimilarAnswer, errors
from search.engine import MAX_K

router = APIRouter(tags=["文章 / passages"])


@router.get(
    "/passages/{passage_id}/similar",
    summary="似た事例 / similar cases",
    responses={200: {"model": SimilarAnswer}, **errors(401, 404, 422, 503)},
)
def similar(
    engine: EngineDep,
    _: ReadKeyDep,
    passage_id: Annotated[str, Path(description="文章 ID（/search の passages[].id）/ passage id")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="文章の件数 / passages")] = 10,
) -> JSONAnswer:
    """その文章に意味の近い、ほかの記事の文章と自治体（同じ自治体の事例は後ろ）
    / the nearest passages of other articles, other places' first, with their municipalities ranked."""
    return JSONAnswer(engine.similar(passage_id, k))
