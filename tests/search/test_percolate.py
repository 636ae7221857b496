"""Percolation's scoring on real vectors from the bundled model: a passage that answers a stored query matches, one
that does not stays out, and the filters apply as /search applies them."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.stores.base import Filters
from search.percolate import NewPassage, StoredQuery, matrix, passes, percolate

ANSWER = (
    "大分県宇佐市は市役所の窓口で住民票の写しの手数料をキャッシュレス決済で支払えるようにした。"
)
OTHER = "福岡県八女市は市内すべての小中学校の普通教室にエアコンを設置した。"


@pytest.fixture(scope="module")
def parts(embedder, engine):
    from search import evidence
    from search.percolate import query_parts

    q = "窓口キャッシュレスの事例"
    words, weights = query_parts(q, engine.view.lexical_stats(list(evidence.query_words(q))))
    vector = embedder.encode_queries([q])[0]
    texts = embedder.encode_passages([ANSWER, OTHER])
    return words, weights, vector, texts


def _passage(pid, text, vector, places=(("442119", "大分県"),), published="2026-11-20"):
    return NewPassage(pid, pid, text, np.asarray(vector, np.float32), "テスト", published, places)


def test_the_answer_matches_and_the_other_does_not(parts):
    words, weights, vector, texts = parts
    query = StoredQuery("s1", vector, words, weights, Filters())
    passages = [
        _passage("a", ANSWER, texts[0]),
        _passage("b", OTHER, texts[1], (("402109", "福岡県"),)),
    ]
    found = percolate([query], passages)
    assert [m.passage.id for m in found] == ["a"]
    assert found == percolate([query], passages, vectors=matrix([query]))
    assert percolate([], passages) == [] and percolate([query], []) == []


def test_filters_apply_as_search_applies_them(parts):
    p = _passage("a", ANSWER, parts[3][0])
    assert passes(Filters(prefecture="大分県"), p) and not passes(Filters(prefecture="東京都"), p)
    assert passes(Filters(municipality="44211"), p) and not passes(
        Filters(municipality="132047"), p
    )
    assert passes(Filters(date_from="2026-11-01", date_to="2026-11-30"), p)
    assert not passes(Filters(date_from="2026-12-01"), p)
    assert not passes(
        Filters(date_to="2026-01-01"), _passage("u", ANSWER, parts[3][0], published=None)
    )
    assert passes(Filters(source="テスト"), p) and not passes(Filters(source="他"), p)
