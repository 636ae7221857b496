"""Saved searches and percolation, side by side in one run.

Usage: .venv/bin/python benchmarks/saved_searches.py [--parts calibrate,feed,cost] [--out FILE]

- calibrate: on the dev queries over the bundled corpus, every (query, passage) pair scored as percolation scores
  it (dense cosine, IDF share of the query's words); a pair is relevant when the passage's subject is a municipality
  the dev file grades relevant. Precision, recall and F1 for a grid of the two thresholds; the chosen pair marked.
- feed: a real server over the bundled index; one saved search (「窓口キャッシュレスの事例」) is saved, then 50
  articles are written through POST /articles: 10 about cashless payment at a municipal counter (they answer it),
  40 about other DX cases, some sharing words (窓口, キャッシュレス) or the topic of others. The feed's precision and
  recall against that key; feedparser reads the feed (bozo flag), and the entries' order.
- cost: percolation of a write's new passages against 1, 100, 1,000 and 10,000 saved searches (in process, the
  product's code): ms per write and ms per saved search per new passage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import kit
import numpy as np

SAVED_QUERY = "窓口キャッシュレスの事例"


def calibrate(embedder, index_dir: Path) -> list[str]:
    import json

    from indexer.analysis.normalize import lexical_form
    from search import evidence, percolate
    from search.engine import Engine

    engine = Engine(index_dir, embedder)
    view = engine.view
    rows = np.arange(view.size, dtype=np.int64)
    vectors = np.stack([view.vector_of(int(r)) for r in rows])
    forms = [lexical_form(t) for t in view.texts(rows)]
    _, mentions = view.fetch(rows)
    subjects = [
        {
            (m["prefecture"], "" if m["level"] == "prefecture" else m["name"])
            for m in mentions.get(int(r), [])
            if m["role"] == "subject"
        }
        for r in rows
    ]
    dev = json.loads(kit.DEV_QUERIES.read_text("utf-8"))["queries"]
    dense, cover, label = [], [], []
    for q in dev:
        wanted = {(p, n) for p, n, g in q["relevant"] if g >= 1}
        vector = embedder.encode_queries([q["q"]])[0]
        words, weights = percolate.query_parts(
            q["q"], view.lexical_stats(list(evidence.query_words(q["q"])))
        )
        dense += list(vectors @ vector)
        cover += [evidence.coverage(words, weights, f) if words else 1.0 for f in forms]
        label += [bool(s & wanted) for s in subjects]
    d, c, y = np.array(dense), np.array(cover), np.array(label)
    lines = [
        f"calibration: {len(dev)} dev queries × {len(rows)} bundled passages = {len(y)} pairs, "
        f"{int(y.sum())} relevant",
        "",
        "| dense ≥ | word share ≥ | matched | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    best = (0.0, 0.0, 0.0)
    results = []
    for dmin in np.arange(0.80, 0.901, 0.005):
        for cmin in (0.0, 0.25, 0.5, 0.75):
            hit = (d >= dmin) & (c >= cmin)
            tp = int((hit & y).sum())
            p = tp / max(int(hit.sum()), 1)
            r = tp / max(int(y.sum()), 1)
            f1 = 2 * p * r / max(p + r, 1e-9)
            results.append((round(float(dmin), 3), cmin, int(hit.sum()), p, r, f1))
            best = max(best, (f1, float(dmin), cmin))
    for dmin, cmin, n, p, r, f1 in results:
        chosen = abs(dmin - percolate.DENSE_MIN) < 1e-9 and cmin == percolate.COVERAGE_MIN
        if f1 >= best[0] - 0.1 or chosen:
            mark = " (chosen)" if chosen else ""
            lines.append(f"| {dmin:.3f}{mark} | {cmin} | {n} | {p:.2f} | {r:.2f} | {f1:.2f} |")
    lines.append(f"\nbest F1 {best[0]:.2f} at dense ≥ {best[1]:.3f}, word share ≥ {best[2]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="calibrate,feed,cost")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--articles", type=int, default=50, help="articles written in the feed part"
    )
    parser.add_argument(
        "--counts", default="1,100,1000,10000", help="saved searches in the cost part"
    )
    args = parser.parse_args()
    from indexer.model.base import Embedder

    embedder = Embedder.load()
    index_dir = kit.bundled_index(embedder)
    parts = args.parts.split(",")
    lines = [f"cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f}", ""]
    try:
        if "calibrate" in parts:
            lines += calibrate(embedder, index_dir) + [""]
        if "feed" in parts:
            lines += feed(embedder, index_dir, args.articles) + [""]
        if "cost" in parts:
            lines += cost(embedder, index_dir, tuple(int(c) for c in args.counts.split(","))) + [""]
    finally:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")


# ---------------------------------------------------------------- feed: 50 written articles with a known key

PLACES = [
    ("宇佐市", "大分県"),
    ("三鷹市", "東京都"),
    ("平塚市", "神奈川県"),
    ("千歳市", "北海道"),
    ("三条市", "新潟県"),
    ("八女市", "福岡県"),
    ("山形市", "山形県"),
    ("日野市", "東京都"),
    ("つくば市", "茨城県"),
    ("唐津市", "佐賀県"),
    ("松本市", "長野県"),
    ("高松市", "香川県"),
    ("盛岡市", "岩手県"),
    ("浜松市", "静岡県"),
    ("姫路市", "兵庫県"),
]
# the ten that answer 「窓口キャッシュレスの事例」: fees paid without cash at a municipal counter
ANSWERS = [
    "{p}は市役所の窓口で住民票の写しや印鑑登録証明書の手数料をキャッシュレス決済で支払えるようにした。クレジットカード、電子マネー、QRコード決済に対応する。",
    "{p}は市民課の窓口にセミセルフレジを導入し、証明書の交付手数料をキャッシュレスで受け付け始めた。現金の受け渡しがなくなり、窓口の待ち時間も短くなった。",
    "窓口キャッシュレス化の事例として、{p}は税務課の窓口で各種証明書の手数料をスマホ決済で支払えるようにした。",
    "{p}では、戸籍証明書などの手数料を窓口でキャッシュレス決済できるサービスを始めた。職員のつり銭準備や現金管理の負担が減ったという。",
    "{p}は本庁舎と支所の窓口に決済端末を置き、手数料のキャッシュレス払いに対応した。電子マネーとクレジットカードが使える。",
    "{p}の市民窓口では、証明書発行手数料のキャッシュレス決済を導入した。QRコード決済の利用が最も多い。",
    "{p}は窓口での手数料の支払いにキャッシュレス決済を取り入れた。住民は現金を持たずに住民票を受け取れる。",
    "{p}は、窓口の混雑緩和と感染症対策のため、各種手数料をキャッシュレスで納付できるようにした事例を紹介した。",
    "{p}では市役所窓口でのキャッシュレス決済が始まり、マイナンバーカード関連の手数料もカードや電子マネーで払える。",
    "{p}は窓口業務のデジタル化の一環として、手数料のキャッシュレス決済と電子申請を同時に導入した。",
]
# forty that do not: counters without payment, cashless outside the counter, other DX cases
OTHERS = [
    "{p}は「書かない窓口」を導入し、職員が聞き取って申請書を作成する。住民は署名するだけでよい。",
    "{p}は窓口の混雑状況をウェブで配信するサービスを始めた。待ち人数がスマートフォンで分かる。",
    "{p}はおくやみ窓口を開設し、死亡に伴う手続きを一か所で案内する。",
    "{p}は窓口の予約システムを導入し、転入手続きの待ち時間を減らした。",
    "{p}は外国人住民のために窓口へタブレット通訳を配置した。",
    "{p}は窓口職員向けの接遇研修をオンラインで実施した。",
    "{p}は夜間と休日の窓口を設けて、平日に来られない住民に対応した。",
    "{p}はオンライン窓口を開設し、ビデオ通話で子育ての相談を受け付ける。",
    "{p}は商店街でキャッシュレス決済を使うとポイントを還元するキャンペーンを行った。",
    "{p}は観光地の店舗にキャッシュレス決済端末の導入を補助した。",
    "{p}はふるさと納税の寄附をスマホ決済で受け付けるようにした。",
    "{p}は地元の事業者と連携し、キャッシュレス決済で使えるプレミアム付き商品券を発行した。",
    "{p}は市税をスマートフォンのアプリで納付できるようにした。コンビニに行かずに払える。",
    "{p}は公立学校の給食費を口座振替に切り替え、教員の集金事務をなくした。",
    "{p}は市営駐車場の料金をキャッシュレス化した。",
    "{p}はキャッシュレス決済の普及率を調べる住民アンケートを実施した。",
    "{p}はRPAを導入し、給与計算の入力作業を自動化した。年間で数百時間の削減を見込む。",
    "{p}はAIによる会議録の自動作成を始め、議事録作成の時間を大幅に短縮した。",
    "{p}は全小中学校に一人一台のタブレット端末を配備した。",
    "{p}は防災アプリを公開し、避難所の開設状況や混雑を配信する。",
    "{p}は職員のテレワーク制度を本格導入し、在宅勤務の端末を整備した。",
    "{p}はLINE公式アカウントで粗大ごみの収集を申し込めるようにした。",
    "{p}は道路の損傷を住民がスマホで通報できるアプリを導入した。",
    "{p}はガバメントクラウドへの移行計画を公表した。",
    "{p}は保育所の入所申請をオンライン化した。",
    "{p}はオープンデータのポータルサイトを開設した。",
    "{p}はドローンを使った橋梁点検の実証実験を行った。",
    "{p}は高齢者の見守りにIoTセンサーを活用する事業を始めた。",
    "{p}はAIチャットボットで住民の問い合わせに24時間答える。",
    "{p}は職員向けにBPR研修を行い、業務の見直しを進めた。",
    "{p}は電子契約サービスを導入し、契約書の押印と郵送をなくした。",
    "{p}は庁内の文書管理を電子決裁に切り替えた。",
    "{p}は図書館の貸出にICタグを導入し、自動貸出機を置いた。",
    "{p}は公共施設の予約をオンラインでできるようにした。",
    "{p}は介護事業所への通知を電子化し、既読を確認できるようにした。",
    "{p}は小中学校の教室に空調設備を設置した。",
    "{p}は地域のデジタル人材を育てる講座を開いた。",
    "{p}は行政手続きの押印を原則廃止した。",
    "{p}は水道メーターのスマート化を進め、検針を自動化した。",
    "{p}は移住希望者向けのオンライン相談会を開いた。",
]


def written_articles() -> list[tuple[dict, bool]]:
    """The 50 articles (10 answers then 40 others, interleaved by a fixed shuffle) and whether each answers."""
    import random

    out = []
    for i, body in enumerate(ANSWERS):
        name, pref = PLACES[i % len(PLACES)]
        out.append((name, pref, body, True, i))
    for i, body in enumerate(OTHERS):
        name, pref = PLACES[(i + 3) % len(PLACES)]
        out.append((name, pref, body, False, 100 + i))
    random.Random(27).shuffle(out)
    articles = []
    for n, (name, pref, body, answers, key) in enumerate(out):
        text = body.format(p=f"{pref}{name}")
        title = text.split("。")[0][:60]
        articles.append(
            (
                {
                    "title": f"{title}（{key}）",
                    "body": text
                    + f"担当課によると、今後も住民サービスの向上に取り組む。（記事 {key}）",
                    "source": "ベンチマーク通信",
                    "published": f"2026-10-{1 + n % 28:02d}",
                },
                answers,
            )
        )
    return articles


def feed(embedder, index_dir: Path, count: int = 50) -> list[str]:
    import feedparser
    import httpx

    from api.settings import Settings
    from search.engine import Engine

    work = index_dir.parent / "feed-index"
    shutil.copytree(index_dir, work, symlinks=True)
    settings = Settings(index_dir=work, api_key="bench", lock_timeout=60)
    articles = written_articles()[:count]
    auth = {"Authorization": "Bearer bench"}
    with (
        kit.serve_in_thread(settings, Engine(work, embedder)) as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):
        saved = http.post("/saved-searches", json={"name": "窓口キャッシュレス", "q": SAVED_QUERY})
        saved.raise_for_status()
        feed_url = saved.json()["feed_url"]
        took = []
        for article, _ in articles:
            began = time.perf_counter()
            http.post("/articles", json=article, headers=auth).raise_for_status()
            took.append(time.perf_counter() - began)
        raw = http.get(feed_url)
    parsed = feedparser.parse(raw.content)
    titles = [e.title for e in parsed.entries]
    key = {a["title"] for a, answers in articles if answers}
    tp = len(set(titles) & key)
    dates = [e.updated for e in parsed.entries]
    return [
        f"feed: one saved search 「{SAVED_QUERY}」, then {len(articles)} articles written through POST /articles "
        f"({len(key)} answer it); thresholds dense ≥ 0.845 and word share ≥ 0.75",
        "",
        "| measurement | value |",
        "|---|---|",
        f"| entries in the feed | {len(titles)} |",
        f"| precision | {tp}/{max(len(titles), 1)} = {tp / max(len(titles), 1):.2f} |",
        f"| recall | {tp}/{len(key)} = {tp / max(len(key), 1):.2f} |",
        f"| missed | {'; '.join(sorted(key - set(titles))) or '—'} |",
        f"| wrongly announced | {'; '.join(sorted(set(titles) - key)) or '—'} |",
        f"| feedparser: version, bozo | {parsed.version}, {bool(parsed.bozo)} |",
        f"| entries newest first | {dates == sorted(dates, reverse=True)} |",
        f"| POST /articles p50 / max (s) | {kit.percentile(took, 50):.2f} / {max(took):.2f} |",
    ]


# ---------------------------------------------------------------- cost: percolation per write


def cost(embedder, index_dir: Path, counts: tuple[int, ...] = (1, 100, 1_000, 10_000)) -> list[str]:
    from api.saved.percolator import Percolator
    from api.saved.store import SavedStore
    from indexer.stores.base import Filters
    from indexer.write import changes, indexing
    from search import evidence, percolate
    from search.engine import Engine

    work = index_dir.parent / "cost-index"
    shutil.copytree(index_dir, work, symlinks=True)
    engine = Engine(work, embedder)
    questions = (
        (kit.dev_queries() + kit.jsquad_questions())[:200]
        if kit.JSQUAD.is_file()
        else kit.dev_queries()
    )
    vectors = embedder.encode_queries(questions)
    parts = [
        percolate.query_parts(q, engine.view.lexical_stats(list(evidence.query_words(q))))
        for q in questions
    ]
    from corpus.article import Article, article_id

    lines = [
        f"cost: percolation after one write, in process on a copy of the bundled index ({engine.view.size} passages); "
        f"saved searches cycle {len(questions)} distinct queries (dev + JSQuAD); each write adds one new article",
        "",
        "| saved searches | new passages | write (indexing.apply) ms | percolation ms (catch_up) | "
        "of which scoring ms | ms per saved search per new passage | matches |",
        "|---|---|---|---|---|---|---|",
    ]
    articles = written_articles()
    for n_i, n in enumerate(counts):
        store = SavedStore(index_dir.parent / f"saved-{n}.sqlite3")
        percolator = Percolator(store)
        percolator.catch_up(engine.view)  # the baseline
        for i in range(n):
            words, weights = parts[i % len(parts)]
            store.add(
                f"s{i}",
                questions[i % len(questions)],
                Filters(),
                vectors[i % len(questions)],
                words,
                weights,
            )
        queries, matrix = store.queries()
        article, _ = articles[n_i]
        new = Article(
            article_id(f"bench/{n}"),
            article["title"],
            article["body"],
            published=article["published"],
        )
        began = time.perf_counter()
        indexing.apply(work, changes.Change(upsert=(new,)), embedder)
        write_ms = (time.perf_counter() - began) * 1000
        engine.refresh()
        began = time.perf_counter()
        matches = percolator.catch_up(engine.view)
        total_ms = (time.perf_counter() - began) * 1000
        passages, _ = percolator._passages(engine.view, [new.id])
        began = time.perf_counter()
        for _ in range(5):
            percolate.percolate(queries, passages, vectors=matrix)
        score_ms = (time.perf_counter() - began) * 1000 / 5
        per = total_ms / (n * max(len(passages), 1))
        lines.append(
            f"| {n:,} | {len(passages)} | {write_ms:.0f} | {total_ms:.1f} | {score_ms:.1f} | {per:.4f} | {matches} |"
        )
        store.close()
    return lines


if __name__ == "__main__":
    main()
