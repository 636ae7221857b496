"""SudachiDict's synonym groups and spelling variants, from the table built out of the installed dictionary."""

from __future__ import annotations

import pytest

from indexer.analysis import thesaurus
from indexer.model.base import default_cache_dir


@pytest.fixture(scope="module")
def table():
    path = thesaurus.ensure(thesaurus.table_path(default_cache_dir()))
    assert path is not None and path.exists()
    return path


def test_synonym_groups_of_the_words_staff_type(table):
    assert "電子申請" in thesaurus.synonyms("オンライン申請", table)
    assert "マイナンバーカード" in thesaurus.synonyms("マイナカード", table)
    assert "スマートフォン" in thesaurus.synonyms("スマホ", table)
    assert "人工知能" in thesaurus.synonyms("AI", table)  # folded to the index's lower case
    assert thesaurus.synonyms("窓口", table) == [] and thesaurus.groups_of("窓口", table) == 0


def test_spelling_variants_share_a_normalised_form(table):
    assert {"子供", "こども"} <= set(thesaurus.variants("子ども", table))
    assert {"子ども", "こども"} <= set(
        thesaurus.variants("子供", table)
    )  # from the normalised form too
    assert "問い合わせ" in thesaurus.variants("問合せ", table)
    assert "子ども" not in thesaurus.variants("子ども", table)


def test_a_table_is_built_beside_and_renamed_into_place(tmp_path):
    path = thesaurus.build(tmp_path / "t.sqlite")
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == ["t.sqlite"]
    assert "電子申請" in thesaurus.synonyms("オンライン申請", path)


def test_a_cache_that_cannot_be_written_leaves_the_own_groups_only(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert thesaurus.ensure(blocked / "thesaurus.sqlite") is None
