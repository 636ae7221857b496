"""Dev-query files with the passages that answer each query (anchors), and the paraphrase set's anchors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from corpus.bundled import bundled_corpus_dir
from indexer.analysis.normalize import nfkc
from search import evaluation

PARAPHRASES = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "paraphrases.json"


def write(tmp_path: Path, queries: list) -> Path:
    path = tmp_path / "queries.json"
    path.write_text(json.dumps({"about": "test", "queries": queries}, ensure_ascii=False), "utf-8")
    return path


def test_passages_are_optional_and_read_as_nfkc_anchors(tmp_path):
    path = write(
        tmp_path,
        [
            {"q": "窓口でスマホ決済", "relevant": [["大分県", "宇佐市", 2]]},
            {
                "q": "QRコード決済",
                "relevant": [["大分県", "宇佐市", 2]],
                "passages": [
                    {"article": "a.txt", "text": "「ＰａｙＰａｙ（ペイペイ）」"},
                    "証明書発行手数料",
                ],
            },
        ],
    )
    evalset = evaluation.read_eval_file(path)
    assert [q.anchors for q in evalset.queries] == [
        (),
        ("「PayPay(ペイペイ)」", "証明書発行手数料"),
    ]


@pytest.mark.parametrize("passages", [[{"article": "a.txt"}], [{"text": " "}], "証明書", [3]])
def test_a_passage_without_an_anchor_is_a_clear_error(tmp_path, passages):
    path = write(
        tmp_path, [{"q": "x", "relevant": [["大分県", "宇佐市", 2]], "passages": passages}]
    )
    with pytest.raises(UserError) as raised:
        evaluation.read_eval_file(path)
    assert raised.value.code == "invalid_eval_file" and "query 0" in raised.value.en


def test_answer_at_3_counts_the_judged_passage_in_the_first_three_on_a_real_answer(
    engine, tmp_path
):
    usa = "窓口での証明書発行手数料を「PayPay"
    path = write(
        tmp_path,
        [
            {
                "q": "窓口キャッシュレス化の実証実験",
                "relevant": [["大分県", "宇佐市", 2]],
                "passages": [usa],
            },
            {
                "q": "窓口キャッシュレス化の実証実験",
                "relevant": [["大分県", "宇佐市", 2]],
                "passages": ["この文は記事にない"],
            },
            {"q": "窓口キャッシュレス化の実証実験", "relevant": [["大分県", "宇佐市", 2]]},
        ],
    )
    result = evaluation.evaluate(
        evaluation.read_eval_file(path), lambda q, m: engine.search(q, 10, m), ["hybrid"]
    )
    rows = result["modes"]["hybrid"]["per_query"]
    answer = engine.search("窓口キャッシュレス化の実証実験", 10, "hybrid")
    held = [usa in nfkc(p["text"]) for p in answer["passages"][:3]]
    assert rows[0]["answer@3"] == float(any(held)) == 1.0
    assert rows[1]["answer@3"] == 0.0
    assert "answer@3" not in rows[2]
    # the mean is over the queries that judge passages: the third does not count as a miss
    assert result["modes"]["hybrid"]["summary"]["answer@3"] == 0.5
    assert (
        "answer@3"
        not in evaluation.evaluate(
            evaluation.read_eval_file(
                write(tmp_path, [{"q": "宇佐市", "relevant": [["大分県", "宇佐市", 2]]}])
            ),
            lambda q, m: engine.search(q, 10, m),
            ["hybrid"],
        )["modes"]["hybrid"]["summary"]
    )


def test_the_paraphrase_set_is_large_enough_and_well_formed():
    data = json.loads(PARAPHRASES.read_text("utf-8"))
    queries = data["queries"]
    assert data["about"] and len(queries) >= 40
    assert len({q["q"] for q in queries}) == len(queries)
    for q in queries:
        assert q["passages"] and any(g == 2 for _, _, g in q["relevant"]), q["q"]


def test_every_paraphrase_anchor_occurs_once_in_the_corpus_inside_one_chunk(
    bundled_articles, bundled_index
):
    """Anchors name passages across re-chunking: each must be unique in the corpus and held by one indexed chunk
    (a chunker change that splits one fails here: pick a shorter anchor)."""
    from indexer.stores.factory import open_store

    files = {p.name: nfkc(p.read_text("utf-8")) for p in bundled_corpus_dir().iterdir()}
    view = open_store(None, bundled_index).commits().open_current()
    chunks = [nfkc(t) for t in view.texts(np.arange(view.size))]
    wrong = []
    for q in json.loads(PARAPHRASES.read_text("utf-8"))["queries"]:
        for p in q["passages"]:
            anchor = nfkc(p["text"])
            counts = {name: text.count(anchor) for name, text in files.items()}
            held = sum(anchor in c for c in chunks)
            if counts.get(p["article"]) != 1 or sum(counts.values()) != 1 or held != 1:
                wrong.append((q["q"], anchor, counts.get(p["article"]), held))
    assert not wrong
