"""Municipality ranking: a subject outranks context and passing mentions."""

from search.ranking import rank_places, role_in

OITA = {
    "code": "440001",
    "name": "大分県",
    "prefecture": "大分県",
    "level": "prefecture",
    "lat": 0.0,
    "lon": 0.0,
}
USA = {
    "code": "442101",
    "name": "宇佐市",
    "prefecture": "大分県",
    "level": "municipality",
    "lat": 0.0,
    "lon": 0.0,
}
MITAKA = {
    "code": "132047",
    "name": "三鷹市",
    "prefecture": "東京都",
    "level": "municipality",
    "lat": 0.0,
    "lon": 0.0,
}


def passage(pid: str, score: float, *places: tuple[dict, str]) -> dict:
    return {
        "id": pid,
        "score": score,
        "municipalities": [{**p, "role": role} for p, role in places],
    }


def test_a_prefecture_beside_its_own_municipality_is_context():
    places = [{**OITA, "role": "subject"}, {**USA, "role": "subject"}]
    assert role_in(places[0], places) == "mention" and role_in(places[1], places) == "subject"


def test_a_prefecture_alone_keeps_its_role():
    places = [{**OITA, "role": "subject"}, {**MITAKA, "role": "mention"}]
    assert role_in(places[0], places) == "subject"


def test_the_municipality_of_a_case_heading_outranks_the_prefecture_that_heads_the_list():
    ranked = rank_places(
        [
            passage("a", 0.9, (OITA, "subject"), (USA, "subject")),
            passage("b", 0.5, (OITA, "subject"), (MITAKA, "mention")),
        ]
    )
    assert [p["name"] for p in ranked] == [
        "宇佐市",
        "大分県",
        "三鷹市",
    ]  # without the rule: 大分県 1.22 > 宇佐市 0.9


def test_on_equal_evidence_the_municipality_leads_the_prefecture_named_beside_it():
    """大分県は、県内の宇佐市で…: the prefecture is the sentence's subject but context beside its own municipality;
    both weigh as mentions, and the tie goes to the municipality (it went to the prefecture by its raw role)."""
    ranked = rank_places([passage("a", 0.9, (OITA, "subject"), (USA, "mention"))])
    assert [p["name"] for p in ranked] == ["宇佐市", "大分県"]
    assert ranked[0]["score"] == ranked[1]["score"]


SHIBUYA = {
    "code": "131130",
    "name": "渋谷区",
    "prefecture": "東京都",
    "level": "municipality",
    "lat": 0.0,
    "lon": 0.0,
}
KANAGAWA = {
    "code": "140007",
    "name": "神奈川県",
    "prefecture": "神奈川県",
    "level": "prefecture",
    "lat": 0.0,
    "lon": 0.0,
}


def test_a_place_of_the_asked_kind_outranks_stronger_evidence_of_another_kind():
    passages = [passage("a", 0.9, (KANAGAWA, "subject")), passage("b", 0.8, (SHIBUYA, "subject"))]
    assert [p["name"] for p in rank_places(passages)] == ["神奈川県", "渋谷区"]
    asked = [p["name"] for p in rank_places(passages, frozenset({"区"}))]
    assert asked == ["渋谷区", "神奈川県"]
    assert [p["name"] for p in rank_places(passages, frozenset({"prefecture"}))] == [
        "神奈川県",
        "渋谷区",
    ]
