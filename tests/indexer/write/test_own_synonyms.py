"""The own synonym groups: limits and bad entries refused with the entry named; add and remove."""

from __future__ import annotations

import pytest

from indexer.write.synonyms import MAX_GROUPS, InvalidSynonyms, added, checked, removed


def test_good_groups_are_kept_trimmed():
    assert checked([[" 電子申請 ", "オンライン申請"], ["電申", "e申請"]]) == [
        ["電子申請", "オンライン申請"],
        ["電申", "e申請"],
    ]


@pytest.mark.parametrize(
    ("groups", "names"),
    [
        ([["a", "b"]] * (MAX_GROUPS * 10), "100000"),
        ([["電子申請", ""]], "groups[0][1]"),
        ([["電子申請", "   "]], "groups[0][1]"),
        (
            [["電子申請", "オンライン申請"], ["ｵﾝﾗｲﾝ申請", "ネット申請"]],
            "groups[1][0]",
        ),  # NFKC: one word
        ([["電子申請", "電子申請"]], "groups[0][1]"),
        ([["電子\x00申請", "オンライン申請"]], "groups[0][0]"),
        ([["電子\u200b申請", "オンライン申請"]], "groups[0][0]"),
        ([["電子申請"]], "groups[0]"),
        ([["語" * 65, "b"]], "65"),
        ([[1, "b"]], "groups[0][0]"),
        ("電子申請", "groups"),
    ],
)
def test_bad_lists_are_refused_naming_the_entry_or_the_limit(groups, names):
    with pytest.raises(InvalidSynonyms) as caught:
        checked(groups)
    assert caught.value.status == 422 and names in caught.value.ja and names in caught.value.en


def test_add_joins_groups_that_share_a_word_and_remove_drops_a_lone_word():
    groups = added([["電子申請", "オンライン申請"]], ["電申", "電子申請"])
    assert groups == [["電申", "電子申請", "オンライン申請"]]
    groups = added(groups, ["マイナカード", "マイナンバーカード"])
    assert len(groups) == 2
    assert removed(groups, "電申") == [
        ["電子申請", "オンライン申請"],
        ["マイナカード", "マイナンバーカード"],
    ]
    assert removed(removed(groups, "マイナカード"), "電申") == [["電子申請", "オンライン申請"]]
