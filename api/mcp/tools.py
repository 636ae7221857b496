"""The MCP tools and the article resource: the engine calls of /search, /municipalities, similar cases,
/suggest and /articles/{id}, with typed inputs and outputs and descriptions written for a model choosing among tools."""

from __future__ import annotations

import inspect
import json
import sqlite3
from collections.abc import Callable
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from api import schemas
from api.routers.articles import article_answer
from common.errors import UserError
from indexer.stores.base import Filters
from search.engine import MAX_K, Engine
from search.errors import IndexUnavailable, QueryError
from search.places import MAX_LIMIT
from search.suggest import MAX_K as MAX_SUGGESTIONS

NAME = "jichitai-search"
INSTRUCTIONS = (
    "自治体DX記事の検索エンジンです。質問に答える文章と、その事例を実施した自治体を出典記事つきで返します。"
    "答えるときは passages の title・url・published を出典として示し、自治体は municipalities の name と code で"
    "示してください。記事にないことは推測しないでください。\n"
    "A search engine over articles about municipal digital transformation (自治体DX) in Japan. It answers with "
    "the passages that answer a question and the municipalities that did it, each with its source article. Cite "
    "passages[].title, url and published; name municipalities with their name and 6-digit code. Do not guess "
    "beyond the passages."
)
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

Query = Annotated[
    str,
    Field(
        description="質問か検索語（日本語、1,000 文字まで）。例: 「窓口キャッシュレスの事例」/ the question "
        "or search words, in Japanese, at most 1,000 characters",
        json_schema_extra={"minLength": 1, "maxLength": 1000},
    ),
]
K = Annotated[
    int,
    Field(
        description=f"返す文章の数（1〜{MAX_K}）/ number of passages to return (1-{MAX_K})",
        json_schema_extra={"minimum": 1, "maximum": MAX_K},
    ),
]
Limit = Annotated[
    int,
    Field(
        description=f"返す文章の数（1〜{MAX_LIMIT}）/ number of passages (1-{MAX_LIMIT})",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
]
Prefecture = Annotated[
    str | None, Field(description="都道府県名で絞る（例: 東京都）/ only this prefecture")
]
Municipality = Annotated[
    str | None,
    Field(description="団体コード（5〜6 桁）で絞る / only this municipality, by its code"),
]
Source = Annotated[str | None, Field(description="掲載元で絞る / only this source (publisher)")]
DateFrom = Annotated[
    str | None, Field(description="掲載日の下限 YYYY-MM-DD / published on or after")
]
DateTo = Annotated[
    str | None, Field(description="掲載日の上限 YYYY-MM-DD / published on or before")
]
Code = Annotated[
    str,
    Field(
        description="6 桁の全国地方公共団体コード（search_cases の municipalities[].code）。例: 442119（宇佐市）"
        "/ 6-digit local government code, as in search_cases' municipalities[].code",
    ),
]
Prefix = Annotated[
    str,
    Field(
        description="語の書き出し（かなでもよい。例: 「まどぐち」「うさ」）/ the start of a word, kana allowed",
        json_schema_extra={"maxLength": 1000},
    ),
]
Count = Annotated[
    int,
    Field(
        description=f"候補の数（1〜{MAX_SUGGESTIONS}）/ number of suggestions (1-{MAX_SUGGESTIONS})",
        json_schema_extra={"minimum": 1, "maximum": MAX_SUGGESTIONS},
    ),
]
PassageId = Annotated[
    str,
    Field(description="文章 ID（search_cases の passages[].id）/ a passage id from search_cases"),
]
ArticleId = Annotated[
    str,
    Field(
        description="記事 ID（passages[].article_id）/ an article id, as in passages[].article_id"
    ),
]


def failure(exc: Exception, fields: dict[str, str] | None = None) -> str:
    """The API's one error shape as text, naming the tool's argument (`query` where the API says `q`): what a
    tool error or a resource error carries to the model."""
    if isinstance(exc, sqlite3.DatabaseError | OSError):
        exc = IndexUnavailable(exc)
    assert isinstance(exc, UserError)
    body = exc.body()
    body["error"]["field"] = (fields or {}).get(exc.field, exc.field)
    return json.dumps(body, ensure_ascii=False)


def checked_limit(limit: int) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(
            "limit",
            f"件数 limit は 1〜{MAX_LIMIT} の整数です: {limit}",
            f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}",
        )
    return limit


def flowed(doc: str | None) -> str:
    """A docstring as a description: paragraphs kept, the lines of each joined (Japanese without a space)."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    joined = []
    for paragraph in paragraphs:
        text = ""
        for line in paragraph.splitlines():
            text += line if not text or not text[-1].isascii() else " " + line
        joined.append(text)
    return "\n\n".join(joined)


def build(engine_of: Callable[[], Engine]) -> MCPServer:
    """The server with its tools; `engine_of` gives the engine on the newest commit point for each call."""
    server = MCPServer(
        NAME, title="自治体DX検索 / jichitai-search", instructions=INSTRUCTIONS, log_level="WARNING"
    )

    def tool(title: str) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            server.add_tool(fn, title=title, description=flowed(fn.__doc__), annotations=READ_ONLY)
            return fn

        return register

    def answer(call: Callable[[Engine], dict], fields: dict[str, str] | None = None) -> dict:
        try:
            return call(engine_of())
        except (UserError, sqlite3.DatabaseError, OSError) as exc:
            raise ToolError(failure(exc, fields)) from None

    @tool("事例を探す / search cases")
    def search_cases(
        query: Query,
        k: K = 10,
        prefecture: Prefecture = None,
        municipality: Municipality = None,
        source: Source = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
    ) -> schemas.SearchAnswer:
        """自治体DXの事例を質問文で探します。質問に答える文章（passages: 記事の題名 title・URL・掲載日 published・
        文章 text と記事内の位置 start/end）と、その事例を実施した自治体（municipalities: 団体コード code・名前・
        都道府県・根拠の文章 passage_ids）を関連の強い順に返します。GET /search と同じ答えです。
        まずこの道具を使ってください。

        Find municipal DX cases (自治体DX事例) by a question in Japanese, e.g. 「窓口キャッシュレスの事例」. Returns
        the passages that answer it (title, url, published date, the passage text and its offsets in the
        article) and the municipalities that did it (6-digit code, name, prefecture, the ids of the passages
        that support them), best first: the same answer as GET /search. Use this first; then
        municipality_cases for one municipality, similar_cases to widen from a passage, get_article to read
        a whole article.
        """
        filters = Filters(
            prefecture or None,
            municipality or None,
            source or None,
            date_from or None,
            date_to or None,
        )
        found = answer(lambda engine: engine.search(query, k, "hybrid", filters), {"q": "query"})
        return schemas.SearchAnswer.model_validate(found)

    @tool("自治体の事例 / a municipality's cases")
    def municipality_cases(code: Code, limit: Limit = 20) -> schemas.PlacePage:
        """ある自治体（または都道府県）の事例を、団体コードで一覧します。その自治体が主題の文章が先、新しい順。
        名前・都道府県・旧名称と、各文章の記事（title・url・published）と役割 role を返します。

        List the cases of one municipality (or prefecture) by its 6-digit code (from search_cases'
        municipalities[].code): passages about it first, newest first, each with its article's title, url
        and date and the municipality's role in it. Use it to answer "what else did this town do?".
        """
        page = answer(lambda engine: engine.place_page(code, checked_limit(limit), 0))
        return schemas.PlacePage.model_validate(page)

    @tool("似た事例 / similar cases")
    def similar_cases(passage_id: PassageId, k: K = 10) -> schemas.SimilarAnswer:
        """ある文章（search_cases の passages[].id）に意味の近い、ほかの記事の文章と、その自治体を返します。
        同じ取り組みをしている別の自治体を探すときに使います。

        The passages of other articles nearest in meaning to one passage (an id from search_cases), with
        their municipalities ranked (other places first). Use it to find other municipalities doing the
        same thing.
        """
        found = answer(lambda engine: engine.similar(passage_id, k), {"id": "passage_id"})
        return schemas.SimilarAnswer.model_validate(found)

    @tool("索引の語を探す / words of the index")
    def suggest_words(prefix: Prefix, k: Count = 8) -> schemas.SuggestAnswer:
        """書き出し（かなの読みでもよい）で始まる、索引にある語・自治体名・記事名・見出しを返します。
        search_cases に使う正しい表記（漢字）や、索引にある自治体名を確かめるときに使います。GET /suggest と同じ
        答えです（過去の検索は含みません）。

        Terms, municipality names, article titles and headings of the index that start with a prefix (kana
        readings find kanji: まどぐち → 窓口, うさ → 宇佐市). Use it to find how the index writes a word before
        search_cases. The same answer as GET /suggest, without past searches.
        """
        found = answer(lambda engine: engine.suggest(prefix, k), {"q": "prefix"})
        return schemas.SuggestAnswer.model_validate(found)

    @tool("記事を読む / read an article")
    def get_article(id: ArticleId) -> schemas.Article:
        """記事 1 件の本文全体と、索引された文章（位置と自治体つき）を返します。文章の前後の文脈を確かめるときに
        使います。

        One whole article: title, source, url, published date, its full text and its indexed passages with
        their offsets and municipalities. Use it to read the context around a passage before quoting it.
        """
        return schemas.Article.model_validate(answer(lambda engine: article_answer(engine, id)))

    @server.resource(
        "article://{id}",
        name="article",
        title="記事 / article",
        description="記事 1 件（get_article と同じ JSON）/ one article, the JSON get_article answers",
        mime_type="application/json",
    )
    def read_article(id: str) -> str:
        try:
            found = article_answer(engine_of(), id)
        except (UserError, sqlite3.DatabaseError, OSError) as exc:
            raise ResourceError(failure(exc)) from None
        return json.dumps(found, ensure_ascii=False)

    return server
