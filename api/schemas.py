"""The JSON answers of the HTTP API as pydantic models: what /docs and /openapi.json show (the README's contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    depth: int = Field(description="数えた上位候補の数 / top candidates counted")


class SearchAnswer(Answer):
    query: str
    took_ms: float
    mode: Literal["hybrid", "dense", "lexical"]
    generation: str
    passages: list[Passage]
    municipalities: list[RankedPlace]
    facets: Facets


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
        401: "閲覧キーが必要 / key needed",
        404: "見つからない / not found",
        422: "入力の誤り / invalid input",
        503: "索引を読めない / index unavailable",
    }
    return {s: {"model": ErrorAnswer, "description": words.get(s, "error")} for s in statuses}
