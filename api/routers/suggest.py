"""`GET /suggest`: suggestions as one types (titles, headings, municipalities, terms, past searches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import EngineDep, ReadKeyDep
from api.responses import JSONAnswer
from api.schemas import SuggestAnswer, errors
from search.engine import MAX_QUERY
from search.filters import PREFIX_PATTERN
from search.suggest import MAX_K

router = APIRouter(tags=["検索 / search"])


@router.get(
    "/suggest",
    summary="入力中の候補 / suggestions as one types",
    responses={200: {"model": SuggestAnswer}, **errors(401, 422, 503)},
)
def suggest(
    request: Request,
    engine: EngineDep,
    _: ReadKeyDep,
    q: Annotated[
        str,
        Query(
            description="入力中の文字列（かなで漢字の語も見つかる。空なら候補なし）/ the prefix typed so far "
            "(kana finds kanji through readings; empty: no suggestions)",
            json_schema_extra={"maxLength": MAX_QUERY, "pattern": PREFIX_PATTERN},
            examples=["まどぐち"],
        ),
    ] = "",
    k: Annotated[int, Query(ge=1, le=MAX_K, description="候補の数 / suggestions")] = 8,
) -> JSONAnswer:
    """記事名・見出し・自治体・語・過去の検索のうち、入力で始まるもの（読みでも）
    / titles, headings, municipalities, terms and past searches starting with the prefix (or its reading)."""
    return JSONAnswer(engine.suggest(q, k, request.app.state.past_queries.scored()))
