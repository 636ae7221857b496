"""The answers validate against the pydantic models that /openapi.json publishes."""

from __future__ import annotations

from api import schemas


def test_openapi_documents_every_answer(client):
    spec = client.get("/openapi.json").json()
    models = spec["components"]["schemas"]
    assert {
        "SearchAnswer",
        "Passage",
        "Facets",
        "PlacePage",
        "SimilarAnswer",
        "ArticlesPage",
        "Article",
        "Health",
        "ErrorAnswer",
    } <= set(models)
    ok = {
        path: spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        for path in (
            "/search",
            "/municipalities/{code}",
            "/passages/{passage_id}/similar",
            "/articles",
            "/health",
        )
    }
    assert ok["/search"].endswith("/SearchAnswer") and ok["/municipalities/{code}"].endswith(
        "/PlacePage"
    )
    errors = spec["paths"]["/search"]["get"]["responses"]["422"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    assert errors.endswith("/ErrorAnswer")
    assert set(models["Passage"]["required"]) >= {
        "id",
        "text",
        "score",
        "highlights",
        "municipalities",
    }


def test_real_answers_validate(client):
    answer = client.get("/search", params={"q": "窓口キャッシュレス"}).json()
    schemas.SearchAnswer.model_validate(answer)
    passage = answer["passages"][0]["id"]
    schemas.SimilarAnswer.model_validate(client.get(f"/passages/{passage}/similar").json())
    schemas.PlacePage.model_validate(client.get("/municipalities/442119").json())
    articles = client.get("/articles").json()
    schemas.ArticlesPage.model_validate(articles)
    schemas.Article.model_validate(client.get(f"/articles/{articles['articles'][0]['id']}").json())
    schemas.Health.model_validate(client.get("/health").json())
    schemas.ErrorAnswer.model_validate(client.get("/municipalities/999997").json())


def test_the_models_refuse_an_answer_missing_a_contract_field(client):
    import pydantic
    import pytest

    answer = client.get("/search", params={"q": "窓口キャッシュレス"}).json()
    del answer["passages"][0]["highlights"]
    with pytest.raises(pydantic.ValidationError):
        schemas.SearchAnswer.model_validate(answer)
