"""Properties of the chunker: exact offsets, bounded sizes, and no line of an article lost."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.bundled import bundled_corpus_dir
from corpus.loaders import load_paths
from indexer.analysis.chunker import Chunk, ChunkerConfig, chunk_text

MAX_CHARS = ChunkerConfig().max_chars
MD_MARKS = re.compile(r"^#{1,6}\s+")
EXAMPLE = "【公開データ】\n\nAED設置箇所一覧、住居番号と土地の地番対照表 など\n\n【問い合わせ】\n\n情報政策課\n"

# --- the searchable-line measure (test helper, not product code) ---------------------------------


def content_lines(text: str) -> list[tuple[int, int, str]]:
    """Non-blank lines as (start, end, stripped text), offsets of the stripped text."""
    out, start = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append((start + lead, start + lead + len(stripped), stripped))
        start += len(raw) + 1
    return out


def _in_one_chunk(start: int, end: int, chunks: Sequence[Chunk]) -> bool:
    """Whether the span lies inside one chunk's text."""
    return any(c.start <= start and end <= c.end for c in chunks)


def _every_char_covered(text: str, start: int, end: int, chunks: Sequence[Chunk]) -> bool:
    """Whether every non-space character of the span is inside some chunk (for lines cut in parts)."""
    covered = {i for c in chunks for i in range(max(c.start, start), min(c.end, end))}
    return all(i in covered for i in range(start, end) if not text[i].isspace())


def _heads_next_chunk(end: int, line: str, chunks: Sequence[Chunk]) -> bool:
    """Whether the line (without `#` marks) is the heading of the first chunk after it."""
    following = [c for c in chunks if c.start >= end]
    return bool(following) and following[0].heading == MD_MARKS.sub("", line)


def is_searchable(text: str, span: tuple[int, int, str], chunks: Sequence[Chunk]) -> bool:
    """A line is searchable when it is in a chunk's text, or it is the heading of the chunk after it."""
    start, end, line = span
    if len(line) <= MAX_CHARS and _in_one_chunk(start, end, chunks):
        return True
    if len(line) > MAX_CHARS and _every_char_covered(text, start, end, chunks):
        return True
    return _heads_next_chunk(end, line, chunks)


def searchable_share(
    texts: Sequence[str], chunker: Callable[[str], list[Chunk]] = chunk_text
) -> float:
    """The share of non-blank lines over all texts that a chunker makes searchable."""
    found = total = 0
    for text in texts:
        chunks = chunker(text)
        lines = content_lines(text)
        found += sum(is_searchable(text, span, chunks) for span in lines)
        total += len(lines)
    return found / total if total else 1.0


def unsearchable(text: str) -> list[str]:
    """The non-blank lines of a text that no chunk makes searchable."""
    chunks = chunk_text(text)
    return [span[2] for span in content_lines(text) if not is_searchable(text, span, chunks)]


def assert_well_formed(text: str, chunks: Sequence[Chunk]) -> None:
    """Exact offsets, non-empty trimmed text, in order without overlap, never over max_chars."""
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= MAX_CHARS
    for before, after in zip(chunks, chunks[1:]):
        assert before.end <= after.start
        assert before.section <= after.section


# --- generated articles ------------------------------------------------------------------------

KANJI = "市町村県都府区役所窓口住民職員情報政策課デジタル化推進行政手続電子申請予約導入実証実験開始公開データ"
KANA = "のはがをにでともするしたいますあるれるようなこと"
WORDS = (
    "AED設置箇所一覧",
    "住居番号",
    "地番対照表",
    "オンライン申請",
    "キャッシュレス",
    "LINE公式アカウント",
    "ガバメントクラウド",
    "マイナンバーカード",
    "チャットボット",
    "三条市",
    "宇佐市",
    "令和5年度",
    "DX",
)
SPACE = st.sampled_from(["", " ", "\u3000", "\t", "\u3000\u3000"])


def phrase(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """A run of Japanese-looking words and characters."""
    part = st.one_of(st.sampled_from(WORDS), st.text(KANJI + KANA, min_size=1, max_size=6))
    return st.lists(part, min_size=min_size, max_size=max_size).map("".join)


def sentence() -> st.SearchStrategy[str]:
    """A sentence ending in 。 (sometimes with a quote or aside)."""
    quoted = st.builds(lambda a, b, c: f"{a}「{b}」{c}", phrase(1, 4), phrase(1, 3), phrase(1, 4))
    aside = st.builds(lambda a, b: f"{a}（{b}）", phrase(1, 5), phrase(1, 3))
    body = st.one_of(phrase(2, 14), quoted, aside)
    return st.builds(lambda b, end: b + end, body, st.sampled_from(["。", "。", "！", "？"]))


def paragraph() -> st.SearchStrategy[str]:
    """A paragraph of one to many sentences: short ones and ones far over max_chars."""
    return st.lists(sentence(), min_size=1, max_size=40).map("".join)


def long_line() -> st.SearchStrategy[str]:
    """A line near or over max_chars: many sentences, or words with no sentence end at all."""
    sentences = st.builds(
        lambda parts, n: "".join(parts) * n,
        st.lists(sentence(), min_size=1, max_size=5),
        st.integers(4, 30),
    )
    run_on = st.builds(
        lambda p, sep, n: (p + sep) * n,
        phrase(2, 6),
        st.sampled_from(["", " ", "\u3000"]),
        st.integers(20, 80),
    )
    return st.one_of(sentences, run_on)


def url() -> st.SearchStrategy[str]:
    """A URL line, sometimes after a label."""
    path = st.text("abcdefghijklmnopqrstuvwxyz0123456789/-_", min_size=0, max_size=20)
    label = st.sampled_from(["", "詳細:", "➡ ", "参考 "])
    return st.builds(lambda lab, p: f"{lab}https://www.example.lg.jp/{p}", label, path)


def line() -> st.SearchStrategy[str]:
    """One line of an article of any kind, with optional leading and trailing spaces."""
    kinds = st.one_of(
        st.builds(lambda p: f"【{p}】", phrase(1, 4)),
        st.builds(lambda h, p: f"{h} {p}", st.sampled_from(["#", "##", "###"]), phrase(1, 5)),
        st.builds(
            lambda m, p: f"{m}{p}", st.sampled_from(["■", "●", "◆", "[自治体] "]), phrase(1, 8)
        ),
        st.builds(
            lambda m, p: f"{m}{p}", st.sampled_from(["・", "- ", "1. ", "(2) ", "①"]), phrase(1, 8)
        ),
        st.builds(lambda a, b: f"{a}、{b} など", phrase(1, 3), phrase(1, 3)),
        phrase(1, 4),
        sentence(),
        paragraph(),
        long_line(),
        url(),
    )
    return st.builds(lambda lead, text, trail: lead + text + trail, SPACE, kinds, SPACE)


def list_block() -> st.SearchStrategy[str]:
    """A run of ・ lines with blank lines between them (the gaps count towards a passage's size)."""
    item = st.builds(lambda p: f"・{p}", phrase(4, 10))
    return st.lists(item, min_size=5, max_size=15).map("\n\n".join)


def article() -> st.SearchStrategy[str]:
    """An article: lines of every kind separated by one newline or by blank (maybe spaced) lines."""
    block = st.one_of(line(), line(), line(), list_block())
    gap = st.sampled_from(["\n", "\n", "\n\n", "\n\n\n", "\n \n", "\n\u3000\n\n"])
    pairs = st.lists(st.tuples(block, gap), min_size=1, max_size=30)
    return pairs.map(lambda items: "".join(text + sep for text, sep in items))


NOISE = st.text("ab　 \n\n\n。、【】#■・等など市http://x.jp", max_size=300)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(article())
def test_generated_articles_give_exact_bounded_ordered_chunks(text: str) -> None:
    assert_well_formed(text, chunk_text(text))


@settings(max_examples=200, deadline=None)
@given(article())
def test_every_line_of_a_generated_article_is_searchable(text: str) -> None:
    assert unsearchable(text) == []


@settings(max_examples=200, deadline=None)
@given(NOISE)
def test_any_text_keeps_every_line_and_exact_offsets(text: str) -> None:
    assert_well_formed(text, chunk_text(text))
    assert unsearchable(text) == []


def test_every_line_of_the_bundled_articles_is_searchable() -> None:
    articles = load_paths([bundled_corpus_dir()]).articles
    assert len(articles) == 5
    for item in articles:
        assert unsearchable(item.text) == [], item.path
    print(f"searchable share of bundled lines: {searchable_share([a.text for a in articles]):.1%}")


def test_headings_with_only_short_answers_keep_their_answers() -> None:
    chunks = chunk_text(EXAMPLE)
    assert any("AED設置箇所一覧" in c.text for c in chunks)
    assert [(c.heading, c.text) for c in chunks] == [
        ("【公開データ】", "AED設置箇所一覧、住居番号と土地の地番対照表 など"),
        ("【問い合わせ】", "情報政策課"),
    ]
    assert unsearchable(EXAMPLE) == []


def test_a_heading_with_nothing_under_it_is_a_passage_of_its_own() -> None:
    text = "## 第1章\n## 背景\n本市は窓口の予約システムを導入しました。\n\n【お知らせ】\n"
    chunks = chunk_text(text)
    assert [(c.heading, c.text) for c in chunks] == [
        ("第1章", "## 第1章"),
        ("背景", "本市は窓口の予約システムを導入しました。"),
        ("【お知らせ】", "【お知らせ】"),
    ]
    assert unsearchable(text) == []


def test_every_line_of_the_self_authored_fixtures_is_searchable() -> None:
    import json
    from pathlib import Path

    fixtures = json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "self_authored.json").read_text("utf-8")
    )["articles"]
    assert len(fixtures) >= 40
    for item in fixtures:
        assert unsearchable(item["text"]) == [], item["title"]
