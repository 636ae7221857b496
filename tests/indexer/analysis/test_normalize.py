"""The lexical form: NFKC, lower case, long vowels and wave dashes unified the same way for passages and queries."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis.normalize import lexical_form

FOLD = str.maketrans({"－": "ー", "―": "ー", "‐": "ー", "ｰ": "ー", "〜": "~", "～": "~"})


def test_long_vowels_and_dashes_after_katakana_become_one_mark():
    assert lexical_form("ラ－メン・テスト-ケース〜ＡＢＣ") == "ラーメン・テストーケース~abc"
    assert lexical_form("データ―ベース") == lexical_form("データーベース") == "データーベース"
    assert lexical_form("ＬＩＮＥ公式") == "line公式"
    assert lexical_form("10〜20") == lexical_form("10～20") == "10~20"


@given(st.text(alphabet="アイウｰ－―‐〜～-abcＡＢ漢字 \n", max_size=40))
def test_lexical_form_folds_every_variant_as_one_mapping_would(text):
    folded = unicodedata.normalize("NFKC", text).lower().translate(FOLD)
    assert lexical_form(text).replace("ー", "-") == folded.replace("ー", "-")
    assert not set("－―‐ｰ〜～") & set(lexical_form(text))
