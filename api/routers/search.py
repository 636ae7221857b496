"""`GET /search`: the same JSON answer as `jsearch search --json`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import export
from api.deps import EngineDep, ReadKeyDep
from api.log.store import entry_of
from api.responses import JSONAnswer
from api.schemas import SearchAnswer, errors
from indexer.stores.base import Filters
from search.engine import MAX_K, MAX_QUERY
from search.filters import CODE_PATTERN, DATE_SCHEMA, QUERY_PATTERN, prefecture_names

router = APIRouter(tags=["検索 / search"])

ANSWERS = {
    200: {
        "model": SearchAnswer,
        "description": "JSON（既定）か CSV（format=csv）/ JSON, or CSV with format=csv",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "links": {
            "SimilarToFirst": {
                "operationId": "similar_passages__passage_id__similar_get",
                "parameters": {"passage_id": "$response.body#/passages/0/id"},
            },
            "FirstMunicipality": {
                "operationId": "municipality_municipalities__code__get",
                "parameters": {"code": "$response.body#/municipalities/0/code"},
            },
        },
    },
    **errors(401, 422, 503),
}


@router.get(
    "/search", responses=ANSWERS, summary="文章と自治体を探す / find passages and municipalities"
)
def search(
    request: Request,
    engine: EngineDep,
    _: ReadKeyDep,
    q: Annotated[
        str,
        Query(
            description="検索語（空白をまとめて 1,000 文字まで、制御文字なし）/ query (spaces folded, at most "
            "1,000 characters, no control characters)",
            json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY, "pattern": QUERY_PATTERN},
            examples=["窓口キャッシュレスの事例"],
        ),
    ],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="文章の件数 / passages")] = 10,
    mode: Annotated[
        Literal["hybrid", "dense", "lexical"], Query(description="検索方式 / mode")
    ] = "hybrid",
    prefecture: Annotated[
        str | None,
        Query(description="都道府県名（例: 東京都）", json_schema_extra=prefecture_names),
    ] = None,
    municipality: Annotated[
        str | None,
        Query(description="団体コード 5〜6 桁 / code", json_schema_extra={"pattern": CODE_PATTERN}),
    ] = None,
    source: Annotated[str | None, Query(description="掲載元 / source")] = None,
    date_from: Annotated[
        str | None,
        Query(description="掲載日の下限 YYYY-MM-DD", json_schema_extra=DATE_SCHEMA),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(description="掲載日の上限 YYYY-MM-DD", json_schema_extra=DATE_SCHEMA),
    ] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json か csv（Excel 用、BOM つき UTF-8）")
    ] = "json",
    expand: Annotated[
        bool,
        Query(
            description="同義語・表記ゆれも含めて検索（false: 入力した語だけ）"
            " / also search synonyms and spelling variants (false: the words typed only)"
        ),
    ] = True,
) -> Response:
    """質問に答える文章と、その事例の自治体を返します。facets は絞り込み後、質問に関連する上位候補（depth 件）の記事数です。
    / the passages that answer and their municipalities; facets count articles among the top `depth` candidates."""
    filters = Filters(
        prefecture or None, municipality or None, source or None, date_from or None, date_to or None
    )
    answer = engine.search(q, k, mode, filters, expand)
    request.app.state.searchlog.record(
        entry_of(answer, asdict(filters))
    )  # a queue: the disk is not waited for
    if format == "json":
        return JSONAnswer(answer)
    return Response(
        export.to_csv(answer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": export.disposition(answer)},
    )
