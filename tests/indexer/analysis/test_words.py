"""Each chunk's content words as a segment stores them: packed to about half the text's size, unpacked exactly."""

from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis.lexical import word_spans
from indexer.analysis.words import pack_words, unpack_words


def test_a_form_is_stored_only_where_it_differs_from_the_text():
    text = "ＡＢＣで申請した"
    spans = word_spans(text)
    assert ("ABC" in [form for _, _, form in spans]) and "ABC" in pack_words(text, spans)
    assert "申請" not in pack_words(text, spans)
    assert unpack_words(text, pack_words(text, spans)) == spans


@given(
    st.text(
        alphabet="窓口でキャッシュレス決済をＡＢＣ導入した。子供・子ども１２３ｰ－ 申請できる\n",
        max_size=80,
    )
)
def test_packed_words_unpack_to_the_words(text):
    spans = word_spans(text)
    assert unpack_words(text, pack_words(text, spans)) == spans
