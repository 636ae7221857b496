"""`GET /passages/{id}/similar` on a real server: nearest passages of other articles, other places first."""

from __future__ import annotations


def _first(client, query: str) -> dict:
    return client.get("/search", params={"q": query, "k": 1}).json()["passages"][0]


def test_similar_cases_come_from_other_articles_nearest_first(client):
    source = _first(client, "窓口キャッシュレス")
    answer = client.get(f"/passages/{source['id']}/similar", params={"k": 8}).json()
    assert answer["passage"]["id"] == source["id"] and answer["passage"]["text"] == source["text"]
    ids = [p["id"] for p in answer["passages"]]
    assert 0 < len(ids) <= 8 and source["id"] not in ids and len(set(ids)) == len(ids)
    assert all(p["article_id"] != source["article_id"] for p in answer["passages"])
    own = {p["code"] for p in source["municipalities"] if p["role"] != "mention"}
    assert not own & {p["code"] for p in answer["municipalities"]}
    for place in answer["municipalities"]:
        assert set(place["passage_ids"]) <= set(ids)


def test_passages_about_the_same_place_come_after_the_others(client):
    source = _first(client, "窓口キャッシュレス")
    own = {p["code"] for p in source["municipalities"] if p["role"] != "mention"}
    answer = client.get(f"/passages/{source['id']}/similar", params={"k": 50}).json()
    same = [
        bool(own) and bool(s) and s <= own
        for s in (
            {p["code"] for p in q["municipalities"] if p["role"] != "mention"}
            for q in answer["passages"]
        )
    ]
    assert same == sorted(same)
    others = [p["score"] for p, s in zip(answer["passages"], same) if not s]
    assert others == sorted(others, reverse=True)


def test_unknown_passage_is_404_and_bad_k_422(client, assert_error):
    assert_error(client.get("/passages/0000000000000000/similar"), 404, "id")
    source = _first(client, "チャットボット")
    for k in (0, 51, "x"):
        assert_error(client.get(f"/passages/{source['id']}/similar", params={"k": k}), 422, "k")
