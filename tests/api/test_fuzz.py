"""Property-based fuzzing of the read endpoints on the real server: never a 5xx, always the one error shape,
highlights always inside their passage's text."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ANY_TEXT = st.text(max_size=60)
PARAM = st.one_of(
    ANY_TEXT,
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "50",
            "51",
            "hybrid",
            "dense",
            "lexical",
            "東京都",
            "大分県",
            "442119",
            "999997",
            "2021-10-21",
            "2024-02-31",
            "../..",
            "\x00",
            "\ud800",
            "😀",
            "か\u3099",
        ]
    ),
)
SEARCH_KEYS = [
    "q",
    "k",
    "mode",
    "prefecture",
    "municipality",
    "source",
    "date_from",
    "date_to",
    "extra",
]
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _surrogate_safe(params: dict) -> dict:
    """httpx cannot send a lone surrogate; send it percent-encoded as the UTF-8 bytes a client would emit."""
    return {
        k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in params.items()
    }


def _check(response) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["ja"] and error["en"]


@FUZZ
@given(params=st.dictionaries(st.sampled_from(SEARCH_KEYS), PARAM, max_size=6), query=ANY_TEXT)
def test_search_never_answers_5xx(client, params, query):
    params = _surrogate_safe({"q": query, **params})
    response = client.get("/search", params=params)
    _check(response)
    if response.status_code == 200:
        for passage in response.json()["passages"]:
            for mark in passage["highlights"]:
                assert 0 <= mark["start"] < mark["end"] <= len(passage["text"])


@FUZZ
@given(
    offset=PARAM,
    limit=PARAM,
    article=st.one_of(ANY_TEXT, st.sampled_from(["..", "%00", "../../etc/passwd"])),
)
def test_articles_never_answer_5xx(client, offset, limit, article):
    _check(client.get("/articles", params=_surrogate_safe({"offset": offset, "limit": limit})))
    segment = (
        quote(article.encode("utf-8", "surrogatepass"), safe="") or "x"
    )  # as a browser would send it
    _check(client.get(f"/articles/{segment}"))


@FUZZ
@given(query=st.text(min_size=1, max_size=40).filter(str.strip))
def test_highlights_lie_inside_the_text_for_any_query(engine, query):
    try:
        answer = engine.search(query, 10)
    except ValueError:  # QueryError: a refusal, worded for people
        return
    for passage in answer["passages"]:
        for mark in passage["highlights"]:
            assert 0 <= mark["start"] < mark["end"] <= len(passage["text"])


@FUZZ
@given(prefix=st.one_of(ANY_TEXT, PARAM, st.text(min_size=990, max_size=1010)), k=PARAM)
def test_suggest_never_answers_5xx(client, prefix, k):
    response = client.get("/suggest", params=_surrogate_safe({"q": prefix, "k": k}))
    _check(response)
    if response.status_code == 200:
        found = response.json()["suggestions"]
        assert len(found) <= 20 and len({s["text"] for s in found}) == len(found)
