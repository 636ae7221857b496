"""Highlights are offsets into the shown passage, on full-width and half-width text alike."""

from search.highlight import match_spans, snippet


def test_spans_mark_query_words_in_the_passage():
    text = "■宇佐市、窓口キャッシュレス化の実証実験を実施"
    spans = match_spans(text, "窓口キャッシュレスの事例")
    assert [text[s.start : s.end] for s in spans] == ["窓口キャッシュレス"]


def test_full_width_passage_text_matches_half_width_query():
    text = "ＬＩＮＥ公式アカウントで申請"
    spans = match_spans(text, "line 公式")
    assert [text[s.start : s.end] for s in spans] == ["ＬＩＮＥ公式"]


def test_bare_particles_are_not_highlighted():
    text = "これはのとにです"
    assert match_spans(text, "AIの活用") == []


def test_snippet_is_short_and_centred_on_the_first_match():
    text = "前置き。" * 40 + "窓口キャッシュレス化を実施した。" + "後書き。" * 40
    spans = match_spans(text, "キャッシュレス")
    piece = snippet(text, spans)
    assert "キャッシュレス" in piece and len(piece) <= 95 and piece.startswith("…")


def test_particle_fragments_are_never_highlighted():
    text = "ガスの検針サービスの事業を始めた。この事業は市の事業です。"
    marked = [text[s.start : s.end] for s in match_spans(text, "サービスの事業")]
    assert marked == ["サービス", "事業", "事業", "事業"]
    assert not any(piece in ("スの", "の事", "スの事") for piece in marked)


def test_inflected_query_words_match_their_other_forms():
    text = "窓口でキャッシュレス決済を導入した"
    assert [text[s.start : s.end] for s in match_spans(text, "キャッシュレス決済の導入する")] == [
        "キャッシュレス決済",
        "導入",
    ]


def test_every_highlight_starts_and_ends_on_a_content_character():
    text = "本市では、子育て・介護・税の分野を中心に、スマートフォンから申請できる手続きを拡充しました。"
    for query in ("子育ての申請", "スマートフォンで手続き", "税の分野の拡充"):
        for span in match_spans(text, query):
            piece = text[span.start : span.end]
            assert (
                piece[0] not in "のはがをにでともへや" and piece[-1] not in "のはがをにでともへや"
            ), (query, piece)


def test_stored_words_are_the_passage_words_and_mark_the_same_spans(bundled_index):
    import numpy as np

    from indexer.analysis.lexical import word_spans
    from indexer.stores.faiss.layout import IndexDir
    from indexer.stores.faiss.reader import load
    from search.highlight import query_terms, spans_of_terms
    from search.passages import stored_words

    generation = load(IndexDir(bundled_index).require_current())
    chunks, _ = generation.fetch(np.arange(generation.size))
    assert len(chunks) == generation.size > 100
    for query in (
        "窓口キャッシュレスの事例",
        "LINEで申請できる区",
        "マイナンバーカードを使った市独自のサービス",
    ):
        terms = query_terms(query)
        for chunk in chunks.values():
            stored = stored_words(chunk)
            assert [tuple(w) for w in stored] == word_spans(chunk["text"])
            assert spans_of_terms(chunk["text"], terms, stored) == spans_of_terms(
                chunk["text"], terms
            )
