"""Highlights are offsets into the shown passage, on full-width and half-width text alike."""
from search.highlight import match_spans, snippet


def test_spans_mark_query_words_in_the_passage():
    text = "■宇佐市、窓口キャッシュレス化の実証実験を実施"
    spans = match_spans(text, "窓口キャッシュレスの事例")
    assert [text[s.start:s.end] for s in spans] == ["窓口キャッシュレス"]


def test_full_width_passage_text_matches_half_width_query():
    text = "ＬＩＮＥ公式アカウントで申請"
    spans = match_spans(text, "line 公式")
    assert [text[s.start:s.end] for s in spans] == ["ＬＩＮＥ公式"]


def test_bare_particles_are_not_highlighted():
    text = "これはのとにです"
    assert match_spans(text, "AIの活用") == []


def test_snippet_is_short_and_centred_on_the_first_match():
    text = "前置き。" * 40 + "窓口キャッシュレス化を実施した。" + "後書き。" * 40
    spans = match_spans(text, "キャッシュレス")
    piece = snippet(text, spans)
    assert "キャッシュレス" in piece and len(piece) <= 95 and piece.startswith("…")
