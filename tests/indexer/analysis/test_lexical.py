"""The lexical index: Japanese tokens (char n-grams + SudachiPy words), width folding, BM25 ranking."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from indexer.analysis import lexical
from indexer.stores import bm25, manifest
from indexer.stores.faiss import postings
from indexer.stores.faiss.layout import IndexDir
from search.engine import Engine


def test_tokens_hold_both_char_grams_and_whole_words():
    tokens = lexical.tokenize("窓口キャッシュレス化を宇佐市が導入")
    assert {"窓口", "ュレ", "宇佐"} <= set(tokens)  # bigrams
    assert {"キャッシュレス化", "宇佐市"} & set(tokens)  # Sudachi mode C words
    assert not [t for t in tokens if not any(c.isalnum() for c in t)]


def test_width_case_and_long_vowels_are_folded():
    assert lexical.tokenize("ＰａｙＰａｙとｷｬｯｼｭﾚｽ") == lexical.tokenize("paypayとキャッシュレス")
    assert lexical.tokenize("サーバー") == lexical.tokenize("サーバ－")


def test_tokenizing_from_many_threads_gives_the_same_tokens():
    texts = [
        "公会計化とRPAの導入事例",
        "LINE WORKSで職員の連絡を効率化した町",
        "マイナンバーカードで証明書をコンビニ交付",
    ] * 40
    expected = [lexical.tokenize(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lexical.tokenize, texts)) == expected


def test_bm25_ranks_the_text_with_the_rare_name_first(tmp_path):
    texts = [
        "住民票の写しをコンビニで交付する",
        "PayPayで窓口の手数料を支払える",
        "窓口の混雑を予約で減らす",
    ]
    postings.save(postings.from_counts([lexical.counts(t) for t in texts]), tmp_path / "lex")
    saved = postings.load(tmp_path / "lex")
    terms = lexical.tokenize("ＰａｙＰａｙ 窓口")
    stats = bm25.Stats(
        3, float(saved.lengths.mean()), {t: postings.live_df(saved, t, None) for t in terms}
    )
    scores = postings.scores(saved, terms, stats, None)
    assert scores.argmax() == 1 and scores[0] == 0


def test_postings_score_as_bm25s_does():
    import bm25s

    texts = [
        "住民票の写しをコンビニで交付する",
        "PayPayで窓口の手数料を支払える",
        "窓口の混雑を予約で減らす",
        "窓口で PayPay と クレジットカード 窓口",
    ]
    reference = bm25s.BM25()
    reference.index([lexical.tokenize(t) for t in texts], show_progress=False)
    saved = postings.from_counts([lexical.counts(t) for t in texts])
    for query in ("ＰａｙＰａｙ 窓口", "コンビニ交付", "窓口 窓口"):
        terms = lexical.tokenize(query)
        stats = bm25.Stats(
            4, float(saved.lengths.mean()), {t: postings.live_df(saved, t, None) for t in terms}
        )
        expected = reference.get_scores_from_ids(reference.get_tokens_ids(terms))
        assert abs(postings.scores(saved, terms, stats, None) - expected).max() < 1e-5


def test_an_index_with_another_tokenizer_is_refused_until_rebuilt(
    tmp_path, bundled_index, embedder, gazetteer
):
    copy = tmp_path / "ix"
    shutil.copytree(bundled_index, copy, symlinks=True)
    path = IndexDir(copy).require_current() / manifest.FILE
    data = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**data, "lexical_tokenizer": "char-1-2gram-v1"}), "utf-8")
    with pytest.raises(manifest.IndexMismatch) as info:
        Engine(copy, embedder, gazetteer)
    assert "jsearch index" in info.value.ja and "rebuild" in info.value.en
