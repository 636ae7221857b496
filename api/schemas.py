"""The HTTP API's models as pydantic: the JSON answers (what /docs and /openapi.json show, the public contract) and the request bodies with their validators."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from corpus.loaders import MAX_CHARS
from corpus.metadata import parse_date
from search.filters import CODE_PATTERN, DATE_SCHEMA, QUERY_PATTERN, prefecture_names

Role = Literal["subject", "inherited", "mention"]
Level = Literal["prefecture", "municipality"]


class Answer(BaseModel):
    """Fields may be added to any answer, never removed or renamed: readers must allow unknown keys."""

    model_config = ConfigDict(extra="allow")


class PlaceInPassage(Answer):
    code: str = Field(description="6 桁の全国地方公共団体コード / 6-digit local government code")
    name: str
    prefecture: str
    level: Level
    role: Role = Field(
        description="subject: 文章の主題 / inherited: 記事・節から / mention: 言及のみ"
    )
    lat: float | None
    lon: float | None


class Span(Answer):
    start: int = Field(description="文章 text 内の位置 / offset into the passage text")
    end: int


class Scores(Answer):
    dense: float
    lexical: float


class Passage(Answer):
    id: str
    article_id: str
    title: str
    source: str
    published: str | None = Field(description="YYYY-MM-DD")
    url: str
    text: str
    start: int = Field(description="記事本文内の開始位置 / start offset in the article")
    end: int
    score: float
    heading: str
    scores: Scores
    municipalities: list[PlaceInPassage]
    highlights: list[Span]
    snippet: str
    also_at: list[str] = Field(
        default_factory=list,
        description="同じ記事（ほぼ同一の本文）が見つかった他の URL / other URLs of the same article "
        "(near-duplicates found by the crawler)",
    )


class RankedPlace(Answer):
    code: str
    name: str
    prefecture: str
    level: Level
    lat: float | None
    lon: float | None
    score: float
    passage_ids: list[str]


class FacetValue(Answer):
    name: str
    count: int = Field(description="記事の数 / distinct articles")


class Facets(Answer):
    prefecture: list[FacetValue]
    source: list[FacetValue]
    year: list[FacetValue]
    depth: int = Field(
        description="数えた候補の数（質問に関連する上位、最大 100）/ candidates counted: the relevant best ones, at most 100"
    )


class SearchAnswer(Answer):
    query: str
    took_ms: float
    mode: Literal["hybrid", "dense", "lexical"]
    generation: str
    passages: list[Passage]
    municipalities: list[RankedPlace]
    facets: Facets
    expanded: list[str] = Field(
        default_factory=list,
        description="同義語・表記ゆれとして加えて検索した語（expand=false で加えない）"
        " / terms added as synonyms or spelling variants (none with expand=false)",
    )


class SynonymsIn(BaseModel):
    """`PUT /synonyms`: every own group, replacing the ones before."""

    model_config = ConfigDict(extra="forbid")

    groups: list[list[str]] = Field(
        description="同じ意味の語のグループ（各 2〜50 語、最大 10,000 グループ、語は 64 文字まで、重複不可）"
        " / groups of words that mean the same (2-50 words each, at most 10,000 groups, words up to 64 characters,"
        " no word twice)",
        examples=[[["電子申請", "オンライン申請"], ["窓口キャッシュレス", "キャッシュレス決済"]]],
        json_schema_extra={  # stated for clients; indexer/write/synonyms.py checks them with the entry named
            "maxItems": 10_000,
            "items": {
                "type": "array",
                "minItems": 2,
                "maxItems": 50,
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 64,
                    "pattern": r"^[^\u0000-\u001f\u007f-\u009f]*\S[^\u0000-\u001f\u007f-\u009f]*$",
                },
            },
        },
    )


class Synonyms(Answer):
    groups: list[list[str]]
    generation: str = Field(description="このグループを持つ世代 / the commit point holding them")
    did_you_mean: DidYouMean | None = Field(
        default=None,
        description="「もしかして」: 答えが弱く、近い語が索引にあるときの言い換え / a rewrite offered when the answer "
        "is weak and a close term exists",
    )


class Suggestion(Answer):
    text: str = Field(description="候補の文字列 / the text offered")
    kind: Literal["title", "heading", "municipality", "term", "query"] = Field(
        description="title 記事名 / heading 見出し / municipality 自治体 / term 語 / query 過去の検索"
    )
    score: float = Field(description="並べ替えの得点 / ranking score")
    code: str | None = Field(
        default=None, description="自治体の団体コード（municipality のみ）/ code (municipality)"
    )
    prefecture: str | None = Field(
        default=None, description="都道府県（municipality のみ）/ prefecture (municipality)"
    )


class SuggestAnswer(Answer):
    query: str
    took_ms: float
    generation: str
    suggestions: list[Suggestion]


class DidYouMean(Answer):
    text: str = Field(description="言い換えた検索語 / the query with the word replaced")
    reason: Literal["reading", "spelling"] = Field(
        description="reading: 読みが同じ / spelling: 綴りが近い（編集距離）"
    )
    word: str = Field(description="索引にない語 / the query word the index does not hold")
    term: str = Field(description="その代わりの索引の語 / the index's term offered instead")


class PlacePassage(Passage):
    role: Role = Field(description="この自治体の役割 / this place's role in the passage")


class PlacePage(Answer):
    code: str
    name: str
    prefecture: str
    level: Level
    kind: str
    lat: float | None
    lon: float | None
    former_names: list[str] = Field(
        description="旧名称（今この自治体が持つもの）/ former names it holds today"
    )
    total: int
    limit: int
    offset: int
    passages: list[PlacePassage]


class SimilarAnswer(Answer):
    passage: Passage
    passages: list[Passage]
    municipalities: list[RankedPlace]


class ArticleSummary(Answer):
    id: str
    title: str
    source: str
    published: str | None
    url: str
    chunks: int


class ArticlesPage(Answer):
    generation: str
    total: int
    offset: int
    limit: int
    articles: list[ArticleSummary]


class ArticlePassage(Answer):
    id: str
    ord: int
    start: int
    end: int
    heading: str
    text: str
    url: str
    municipalities: list[PlaceInPassage]


class Article(ArticleSummary):
    text: str
    urls: list[str]
    passages: list[ArticlePassage]


class Health(Answer):
    status: str
    generation: str
    articles: int
    chunks: int
    model: str
    created: str
    segments: int
    deleted_chunks: int
    embedding: dict


class SourceSummary(Answer):
    """What the last crawl of a source did (the counts of `jsearch crawl --json`)."""

    fetched: int
    new: int
    updated: int
    unchanged: int
    not_modified: int
    duplicates: int
    seconds: float


class Source(Answer):
    id: str
    url: str
    name: str
    every: str = Field(description="間隔（6h、30m、1d）/ interval")
    every_seconds: float
    added: str
    last_crawl: str | None = Field(description="最後に取り込んだ時刻（UTC）/ last crawled at (UTC)")
    last_summary: SourceSummary | None


class SourcesPage(Answer):
    sources: list[Source]


class Job(Answer):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created: str
    started: str | None
    finished: str | None
    progress: dict
    result: dict | None
    error: dict | None


class ErrorDetail(BaseModel):
    code: str
    field: str
    ja: str
    en: str


class ErrorAnswer(BaseModel):
    """Every 4xx/5xx answer."""

    error: ErrorDetail


def errors(*statuses: int) -> dict:
    """OpenAPI `responses` for these error statuses, each with the one error shape."""
    words = {
        400: "本文を読めない（UTF-8 の JSON でない）/ the body is not readable JSON in UTF-8",
        401: "閲覧キーが必要 / key needed",
        403: "書き込み無効 / writes disabled",
        409: "別のジョブか更新が実行中 / another job or writer is running",
        404: "見つからない / not found",
        413: "大きすぎる / too large",
        422: "入力の誤り / invalid input",
        503: "索引を読めない / index unavailable",
    }
    return {s: {"model": ErrorAnswer, "description": words.get(s, "error")} for s in statuses}


# ---------------------------------------------------------------- requests

MAX_OFFSET = 10_000_000  # a page offset beyond any archive; larger ones overflowed SQLite (500, found by Schemathesis)


# What `checked_text`, `checked_url` and `checked_date` enforce, as patterns for the published schema (the
# server keeps its own checks and wording; the schema only states them). No control characters (a tab in any
# field, line breaks in a body), no lone surrogates; a title or body holds more than spaces.
_LINE_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
_BODY_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
LINE_PATTERN = rf"^[^{_LINE_CONTROL}]*$"
TITLE_PATTERN = rf"^[^{_LINE_CONTROL}]*[^\s{_LINE_CONTROL}][^{_LINE_CONTROL}]*$"
BODY_PATTERN = rf"^[^{_BODY_CONTROL}]*[^\s{_BODY_CONTROL}][^{_BODY_CONTROL}]*$"
URL_PATTERN = rf"^(\s*[hH][tT][tT][pP][sS]?://[^\s<>\"{_LINE_CONTROL}]+\s*)?$"
_SPACE = rf"[^\S{_LINE_CONTROL}]*"
PUBLISHED_PATTERN = (
    rf"^([^{_LINE_CONTROL}]*(?:[1１][9９]|[2２][0０])\d{{2}}{_SPACE}[./年\-．／－]{_SPACE}\d{{1,2}}{_SPACE}"
    rf"[./月\-．／－]{_SPACE}\d{{1,2}}[^{_LINE_CONTROL}]*)?$"
)


class ArticleIn(BaseModel):
    """An article sent as JSON."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(
        min_length=1,
        max_length=500,
        description="題名 / title",
        json_schema_extra={"pattern": TITLE_PATTERN},
    )
    body: str = Field(
        min_length=1,
        max_length=MAX_CHARS,
        description="本文 / text",
        json_schema_extra={"pattern": BODY_PATTERN},
    )
    source: str = Field(
        "",
        max_length=200,
        description="掲載元 / source",
        json_schema_extra={"pattern": LINE_PATTERN},
    )
    published: str | None = Field(
        None,
        description="掲載日（2024-05-01、2024.5.1、2024年5月1日）/ date",
        json_schema_extra={"pattern": PUBLISHED_PATTERN},
    )
    url: str = Field(
        "",
        max_length=2000,
        description="元記事の URL（http/https）",
        json_schema_extra={"pattern": URL_PATTERN},
    )

    @field_validator("title", "body", "source", "url", "published")
    @classmethod
    def _clean(cls, value: str | None, info) -> str | None:
        return checked_text(value, multiline=info.field_name == "body")

    @field_validator("published")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return checked_date(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checked_url(value)


def checked_text(value: str | None, multiline: bool = False) -> str | None:
    """Text without lone surrogates or control characters (tabs and, in a body, line breaks allowed)."""
    if value is None:
        return None
    allowed = "\t\n\r" if multiline else "\t"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError(
            "対になっていないサロゲート文字が含まれています / the text contains a lone surrogate"
        )
    if any((ord(c) < 32 or 0x7F <= ord(c) < 0xA0) and c not in allowed for c in value):
        raise ValueError("制御文字が含まれています / the text contains control characters")
    return value


def checked_url(value: str) -> str:
    """Only http(s) links: a `javascript:` URL would run when a reader clicks the title."""
    if value and not re.match(r"^https?://[^\s<>\"]+$", value, re.I):
        raise ValueError(
            "URL は http:// か https:// で始めてください / the url must start with http:// or https://"
        )
    return value


def checked_date(value: str | None) -> str | None:
    """ISO date from `2024-05-01`, `2024.5.1` or `2024年5月1日`; a date that does not exist is refused."""
    if not value:
        return None
    iso = parse_date(value)
    try:
        return date.fromisoformat(iso or "").isoformat()
    except ValueError:
        raise ValueError(
            f"日付の形式が正しくありません: {value}（YYYY-MM-DD） / invalid date {value!r}; use YYYY-MM-DD"
        ) from None


# `6h`, `30m`, `1d`: whole minutes, hours or days (1 to 9999), so never under a minute
EVERY_PATTERN = r"^[1-9][0-9]{0,3}[mhd]$"
SOURCE_URL_PATTERN = (
    rf"^[hH][tT][tT][pP][sS]?://[^\s<>\"/?#{_LINE_CONTROL}]+[^\s<>\"{_LINE_CONTROL}]*$"
)


class SourceIn(BaseModel):
    """A source to register: its start URL (feed, sitemap or listing page), interval and name."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="フィード・サイトマップ・一覧ページの URL（http/https）/ start URL",
        json_schema_extra={"pattern": SOURCE_URL_PATTERN},
    )
    every: str = Field(
        "6h",
        description="間隔 / interval (30m, 6h, 1d)",
        json_schema_extra={"pattern": EVERY_PATTERN},
    )
    name: str = Field(
        "",
        max_length=200,
        description="掲載元の名前 / source name",
        json_schema_extra={"pattern": LINE_PATTERN},
    )

    @field_validator("url", "every", "name")
    @classmethod
    def _clean(cls, value: str) -> str:
        checked_text(value)
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(SOURCE_URL_PATTERN, value):
            raise ValueError(
                "URL は http:// か https:// で始めてください / the url must start with http:// or https://"
            )
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        if not re.match(EVERY_PATTERN, value):
            raise ValueError("間隔は 30m、6h、1d の形で / the interval looks like 30m, 6h or 1d")
        return value


# ---------------------------------------------------------------- search log, saved searches


class CountedName(Answer):
    name: str
    count: int


class DayCount(Answer):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    count: int


class Analytics(Answer):
    from_: str = Field(alias="from", description="YYYY-MM-DD (UTC)")
    to: str = Field(description="YYYY-MM-DD (UTC)")
    searches: int
    distinct_queries: int
    top_queries: list[CountedName]
    zero_hit_queries: list[CountedName]
    weak_answer_queries: list[CountedName] = Field(
        description="最上位の文章の dense スコアが weak_below 未満 / top passage's dense score below weak_below"
    )
    weak_below: float
    per_day: list[DayCount]
    municipalities: list[CountedName] = Field(
        description="答えの最上位の自治体として多かったもの / most frequent top municipality of the answers"
    )


_DATE = cast(JsonDict, DATE_SCHEMA)


class SavedFilters(BaseModel):
    """The filters of a saved search, named as `/search` names them (unknown names are refused)."""

    model_config = ConfigDict(extra="forbid")

    prefecture: str | None = Field(
        None, description="都道府県名（例: 東京都）", json_schema_extra=prefecture_names
    )
    municipality: str | None = Field(
        None, description="団体コード 5〜6 桁 / code", json_schema_extra={"pattern": CODE_PATTERN}
    )
    source: str | None = Field(None, max_length=200, description="掲載元 / source")
    date_from: str | None = Field(
        None, description="掲載日の下限 YYYY-MM-DD", json_schema_extra=_DATE
    )
    date_to: str | None = Field(
        None, description="掲載日の上限 YYYY-MM-DD", json_schema_extra=_DATE
    )

    @field_validator("source")
    @classmethod
    def _plain_source(cls, value: str | None) -> str | None:
        return checked_text(value)


class SavedSearchIn(BaseModel):
    """`POST /saved-searches`: a name, the query, the filters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=TITLE_PATTERN)
    q: str = Field(
        min_length=1,
        max_length=1000,
        description="検索語（/search の q と同じ）/ the query, as /search takes it",
        json_schema_extra={"pattern": QUERY_PATTERN},
    )
    filters: SavedFilters = Field(default_factory=SavedFilters)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return checked_text(value) or ""


class SavedSearch(Answer):
    id: str = Field(
        description="推測できない ID（これを知る人がフィードを読み、削除できる）/ unguessable id"
    )
    name: str
    q: str
    filters: dict[str, str]
    created: str = Field(description="保存した日時（UTC）/ when saved")
    feed_url: str
    matches: int = Field(description="これまでに一致した記事の数 / articles matched so far")


class Removed(Answer):
    id: str
    status: Literal["removed"]
