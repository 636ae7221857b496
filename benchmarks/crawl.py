"""The crawler on generated fixture sites on loopback (nothing leaves the machine): a crawl of N articles on two
hosts (RSS 1.0 and Atom feeds, a sitemap index with a gzipped sitemap, listing pages) into a real index with the
delay at 0 (pages/s, indexing passages/s, peak RSS), the second pass (all 304), one row per hostile case, and the
near-duplicate decision's precision and recall on built pairs (same article with other chrome vs different
articles on one topic), with the threshold chosen on one half and measured on the other.

    .venv/bin/python benchmarks/crawl.py [--articles 2000] [--pairs 300] [--out benchmarks/results/crawl.md]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import resource
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kit

from corpus.crawl import dedup
from corpus.crawl.config import CrawlConfig
from corpus.crawl.discover import Candidate
from corpus.crawl.fetch import Fetched, Validators
from corpus.crawl.page import article_of
from corpus.crawl.run import Start, crawl, remember

Reply = tuple[int, dict[str, str], bytes]


class Site:
    """Routes by path; static replies get an ETag and answer a matching If-None-Match with 304."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[dict], Reply]] = {}
        self.hits: list[tuple[str, float]] = []
        self.base = self.host = ""

    def page(
        self, path: str, body: bytes | str, kind: str = "text/html; charset=utf-8", **headers: str
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (200, {"Content-Type": kind, **headers}, data)


@contextmanager
def serve(site: Site, host: str) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            site.hits.append((self.path, time.monotonic()))
            route = site.routes.get(self.path, site.routes.get(self.path.split("?")[0]))
            if route is None:
                status, headers, body = 404, {"Content-Type": "text/html"}, b"not found"
            elif callable(route):
                status, headers, body = route(dict(self.headers))
            else:
                status, headers, body = route
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                headers = {**headers, "ETag": etag}
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if (
                    headers.get("Transfer-Encoding") == "chunked"
                ):  # no length given: the reader must count
                    for start in range(0, len(body), 65536):
                        piece = body[start : start + 65536]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    site.host = f"{host}:{httpd.server_address[1]}"
    site.base = f"http://{site.host}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()


def html(
    title: str,
    body: str,
    site: str,
    date: str = "",
    chrome: str = "",
    lead: str = "",
    tail: str = "",
    charset: str = "utf-8",
) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    meta = f'<meta name="date" content="{date}">' if date else ""
    return (
        f'<!doctype html><html lang="ja"><head><meta charset="{charset}"><title>{title}｜{site}</title>{meta}</head>'
        f"<body><header><a href='/'>{site}</a> {chrome}</header><nav><a href='/'>ホーム</a> "
        f"<a href='/news/'>新着情報</a> <a href='/about'>サイトについて</a></nav><main><article><h1>{title}</h1>"
        f"{lead}{paragraphs}{tail}</article></main><aside>{chrome} 人気の記事</aside>"
        f"<footer>{site} Copyright 2024 {chrome}</footer></body></html>"
    )


def paragraphs() -> list[tuple[str, str]]:
    """JSQuAD's paragraphs as (topic, text), the `title [SEP]` prefix removed."""
    found = []
    for article in kit.jsquad():
        for p in article["paragraphs"]:
            text = p["context"].split("[SEP]", 1)[-1].strip()
            found.append((article["title"], text))
    return found


# ---------------------------------------------------------------- the big crawl


def article_texts(count: int, paras: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`count` articles of three JSQuAD paragraphs each, no two sharing more than one paragraph (a seeded draw
    that rejects a triple holding a pair already used): different articles, not near-duplicates."""
    rng = random.Random(2000)
    used: set[tuple[int, int]] = set()
    made: list[tuple[str, str]] = []
    while len(made) < count:
        picks = sorted(rng.sample(range(len(paras)), 3))
        pairs = {(picks[0], picks[1]), (picks[0], picks[2]), (picks[1], picks[2])}
        if pairs & used:
            continue
        used |= pairs
        topic = paras[picks[0]][0]
        made.append((f"{topic}の話題 {len(made)}", "\n".join(paras[i][1] for i in picks)))
    return made


def build_sites(a: Site, b: Site, texts: list[tuple[str, str]]) -> list[str]:
    """Host A: an RSS 1.0 feed, a sitemap index (a plain and a gzipped sitemap) and listing pages; host B: an
    Atom feed and listing pages. Returns the start URLs."""
    split = len(texts) * 3 // 5
    on_a, on_b = texts[:split], texts[split:]
    for i, (title, body) in enumerate(on_a):
        a.page(
            f"/news/{i}.html",
            html(title, body, "青葉市", f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"),
        )
    for i, (title, body) in enumerate(on_b):
        b.page(f"/articles/{i}", html(title, body, "自治体ニュース", chrome="広告"))
    third = len(on_a) // 3
    feed_items = "".join(
        f'<item rdf:about="{a.base}/news/{i}.html"><title>t</title><link>{a.base}/news/{i}.html</link>'
        f"<dc:date>2024-01-01T00:00:00+09:00</dc:date></item>"
        for i in range(third)
    )
    a.page(
        "/feed.rdf",
        '<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="x">'
        f"<title>青葉市</title><link>{a.base}</link><description>d</description></channel>{feed_items}</rdf:RDF>",
        "application/rdf+xml",
    )

    def urlset(indices: range) -> str:
        locs = "".join(f"<url><loc>{a.base}/news/{i}.html</loc></url>" for i in indices)
        return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'

    middle = range(third, 2 * third)
    a.page(
        "/sitemap-1.xml",
        urlset(range(middle.start, (middle.start + middle.stop) // 2)),
        "application/xml",
    )
    a.page(
        "/sitemap-2.xml.gz",
        gzip.compress(urlset(range((middle.start + middle.stop) // 2, middle.stop)).encode()),
        "application/gzip",
    )
    a.page(
        "/sitemap.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{a.base}/sitemap-1.xml</loc></sitemap><sitemap><loc>{a.base}/sitemap-2.xml.gz</loc></sitemap>"
        "</sitemapindex>",
        "application/xml",
    )
    starts = [a.base + "/feed.rdf", a.base + "/sitemap.xml"]
    rest = list(range(2 * third, len(on_a)))
    for page, start in enumerate(range(0, len(rest), 200)):
        links = "".join(
            f'<li><a href="/news/{i}.html">記事 {i}</a></li>' for i in rest[start : start + 200]
        )
        a.page(f"/list/{page}", f"<html><body><ul>{links}</ul></body></html>")
        starts.append(f"{a.base}/list/{page}")
    half = len(on_b) // 2
    entries = "".join(
        f'<entry><title>t</title><id>{b.base}/articles/{i}</id><link href="{b.base}/articles/{i}"/>'
        "<updated>2024-03-03T00:00:00Z</updated></entry>"
        for i in range(half)
    )
    b.page(
        "/atom.xml",
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>'
        f"<updated>2024-01-01T00:00:00Z</updated>{entries}</feed>",
        "application/atom+xml",
    )
    starts.append(b.base + "/atom.xml")
    for page, start in enumerate(range(half, len(on_b), 200)):
        links = "".join(
            f'<a href="/articles/{i}">記事</a> ' for i in range(start, min(start + 200, len(on_b)))
        )
        b.page(f"/list/{page}", f"<html><body>{links}</body></html>")
        starts.append(f"{b.base}/list/{page}")
    return starts


def big_crawl(count: int, paras: list[tuple[str, str]], lines: list[str]) -> None:
    from indexer.model.base import Embedder
    from indexer.write import changes, indexing

    config = CrawlConfig(delay=0)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        a = stack.enter_context(serve(Site(), "127.0.0.1"))
        b = stack.enter_context(serve(Site(), "127.0.0.2"))
        starts = [Start(u) for u in build_sites(a, b, article_texts(count, paras))]
        folder = Path(tmp) / "index"
        embedder = Embedder.load()
        began = time.perf_counter()
        first = crawl(starts, folder, config)
        crawl_s = time.perf_counter() - began
        began = time.perf_counter()
        report = indexing.apply(folder, changes.Change(upsert=tuple(first.articles)), embedder)
        index_s = time.perf_counter() - began
        remember(folder, first, "bench")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        began = time.perf_counter()
        second = crawl(starts, folder, config)
        second_s = time.perf_counter() - began
        requests = len(a.hits) + len(b.hits)
    lines += [
        f"## Crawl of {count:,} articles on two loopback hosts (delay 0)",
        "",
        f"Start pages: {len(starts)} (an RSS 1.0 feed, a sitemap index with a plain and a gzipped sitemap and "
        "listing pages on 127.0.0.1; an Atom feed and listing pages on 127.0.0.2). Articles: three JSQuAD "
        "paragraphs each (no two sharing more than one), in a municipal page template. One process: fixture servers, crawler and indexer.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| pages fetched (200) | {first.fetched:,} |",
        f"| articles kept / near-duplicates / skipped | {len(first.articles):,} / {first.duplicate_count} / "
        f"{len(first.skipped)} |",
        f"| crawl (discovery, fetch, extraction, MinHash) | {crawl_s:.1f} s = **{first.fetched / crawl_s:.1f} pages/s** |",
        f"| indexing (one change through indexer/write/indexing.apply) | {report.chunks:,} passages, "
        f"{report.embedded_chunks:,} embedded in {index_s:.1f} s = **{report.embedded_chunks / index_s:.1f} passages/s** |",
        f"| peak RSS of the process (model loaded) | {rss:,.0f} MB |",
        f"| second pass: not_modified / fetched / skipped | **{second.not_modified:,}** / {second.fetched} / "
        f"{len(second.skipped)} |",
        f"| second pass time | **{second_s:.1f} s** |",
        f"| requests the two servers got, both passes | {requests:,} |",
        "",
    ]


# ---------------------------------------------------------------- hostile cases


GOOD = "青葉市は市民課の窓口でキャッシュレス決済を始めました。\n手数料をクレジットカードや電子マネーで支払えます。"


def _feed(site: Site, paths: list[str]) -> str:
    items = "".join(f"<item><link>{site.base}{p}</link></item>" for p in paths)
    site.page(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>x</link>'
        f"<description>d</description>{items}</channel></rss>",
        "application/rss+xml",
    )
    return site.base + "/feed.xml"


def hostile(lines: list[str]) -> None:
    sjis = "髙橋市長は①窓口改革と②デジタル化を発表しました。"
    euc = "北海道青葉町は住民票の写しの交付処理にRPAを導入しました。"
    busy: list[int] = []

    def once_busy(_h: dict) -> Reply:
        busy.append(1)
        if len(busy) == 1:
            return 429, {"Retry-After": "1"}, b""
        return (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            html("混雑のあと", "二度目で取れた記事です。\n" * 3, "青葉市").encode(),
        )

    def slow(_h: dict) -> Reply:
        time.sleep(2.5)
        return 200, {"Content-Type": "text/html"}, b"<p>late</p>"

    bomb = gzip.compress(b"<html><body><p>" + b"A" * (50 * 1024 * 1024) + b"</p></body></html>", 9)
    cases: list[
        tuple[
            str,
            str,
            Callable[[Site, Site], list[str]],
            str | None,
            Callable[[CrawlConfig], CrawlConfig],
        ]
    ] = [
        (
            "Shift_JIS page (`<meta charset=Shift_JIS>`, ①, 髙)",
            "decoded as cp932",
            lambda s, o: [
                s.page(
                    "/x",
                    html("シフトJIS", sjis * 3, "青葉市", charset="Shift_JIS").encode("cp932"),
                    "text/html",
                )
            ],
            sjis,
            lambda c: c,
        ),
        (
            "EUC-JP page, no charset anywhere",
            "detected (charset-normalizer)",
            lambda s, o: [
                s.page(
                    "/x",
                    html("EUC", euc * 3, "青葉市")
                    .replace('<meta charset="utf-8">', "")
                    .encode("euc_jp"),
                    "text/html",
                )
            ],
            euc,
            lambda c: c,
        ),
        (
            "429 with Retry-After: 1, then 200",
            "",
            lambda s, o: [s.routes.__setitem__("/x", once_busy)],
            "二度目で取れた",
            lambda c: c,
        ),
        (
            "503 every time (Retry-After: 0)",
            "",
            lambda s, o: [s.routes.__setitem__("/x", (503, {"Retry-After": "0"}, b""))],
            None,
            lambda c: c,
        ),
        (
            "503 with Retry-After: 3600",
            "",
            lambda s, o: [s.routes.__setitem__("/x", (503, {"Retry-After": "3600"}, b""))],
            None,
            lambda c: c,
        ),
        (
            "redirect loop /x → /y → /x",
            "",
            lambda s, o: [
                s.routes.__setitem__("/x", (302, {"Location": "/y"}, b"")),
                s.routes.__setitem__("/y", (302, {"Location": "/x"}, b"")),
            ],
            None,
            lambda c: c,
        ),
        (
            "8 redirects in a row",
            "",
            lambda s, o: [
                s.routes.__setitem__(
                    f"/x{i}" if i else "/x", (301, {"Location": f"/x{i + 1}"}, b"")
                )
                for i in range(8)
            ],
            None,
            lambda c: c,
        ),
        (
            "redirect to another host",
            "",
            lambda s, o: [s.routes.__setitem__("/x", (302, {"Location": o.base + "/y"}, b""))],
            None,
            lambda c: c,
        ),
        (
            "redirect to 169.254.169.254 (cloud metadata)",
            "",
            lambda s, o: [
                s.routes.__setitem__(
                    "/x", (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
                )
            ],
            None,
            lambda c: c,
        ),
        (
            "redirect to http://[fe80::1]/",
            "",
            lambda s, o: [
                s.routes.__setitem__("/x", (302, {"Location": "http://[fe80::1]/"}, b""))
            ],
            None,
            lambda c: c,
        ),
        (
            f"gzip bomb: {len(bomb) // 1024} KB → 50 MB (Content-Encoding: gzip)",
            "",
            lambda s, o: [s.page("/x", bomb, "text/html", **{"Content-Encoding": "gzip"})],
            None,
            lambda c: c,
        ),
        (
            "huge page: 12 MB with Content-Length",
            "",
            lambda s, o: [s.page("/x", b"<p>" + b"a" * (12 * 1024 * 1024))],
            None,
            lambda c: c,
        ),
        (
            "huge page: 11 MB chunked, no Content-Length",
            "",
            lambda s, o: [
                s.page("/x", b"<p>" + b"a" * (11 * 1024 * 1024), **{"Transfer-Encoding": "chunked"})
            ],
            None,
            lambda c: c,
        ),
        (
            "robots.txt `Disallow: /x`",
            "",
            lambda s, o: [
                s.page("/robots.txt", "User-agent: *\nDisallow: /x\n", "text/plain"),
                s.page("/x", html("禁止", GOOD, "青葉市")),
            ],
            None,
            lambda c: c,
        ),
        (
            "robots.txt 503 (unavailable)",
            "nothing fetched: RFC 9309 reads an unreachable robots.txt as disallow all; the next pass fetches them",
            lambda s, o: [
                s.routes.__setitem__("/robots.txt", (503, {}, b"")),
                s.page("/x", html("x", GOOD, "青葉市")),
            ],
            None,
            lambda c: replace(c, retries=0),
        ),
        (
            "wrong content type (image/png)",
            "",
            lambda s, o: [s.page("/x", b"\x89PNG" + b"0" * 100, "image/png")],
            None,
            lambda c: c,
        ),
        (
            "wrong content type (application/json)",
            "",
            lambda s, o: [s.page("/x", b'{"a":1}', "application/json")],
            None,
            lambda c: c,
        ),
        (
            "page with no text (only navigation)",
            "",
            lambda s, o: [s.page("/x", "<html><body><nav>ホーム</nav></body></html>")],
            None,
            lambda c: c,
        ),
        (
            "server slower than the timeout (2.5 s > 1 s)",
            "",
            lambda s, o: [s.routes.__setitem__("/x", slow)],
            None,
            lambda c: replace(c, timeout=1, retries=1),
        ),
    ]
    lines += [
        "## Hostile cases",
        "",
        "Each case is a feed naming the hostile URL and one good article (`/good`) on a fresh fixture site; "
        "`articles lost` counts good articles (and the hostile page where it should be readable) missing from "
        "the pass; `crash` is any exception out of the crawl.",
        "",
        "| what the fixture did | what the crawler did | articles lost | crash | s |",
        "|---|---|---|---|---|",
    ]
    base = CrawlConfig(delay=0, retries=3, backoff=0.2, retry_after_max=30)
    for what, note, setup, expect, adjust in cases:
        busy.clear()
        with (
            serve(Site(), "127.0.0.1") as site,
            serve(Site(), "127.0.0.2") as other,
            tempfile.TemporaryDirectory() as tmp,
        ):
            other.page("/y", html("別ホスト", GOOD, "別"))
            setup(site, other)
            site.page("/good", html("良い記事", GOOD, "青葉市"))
            began = time.perf_counter()
            crash = "none"
            try:
                result = crawl([Start(_feed(site, ["/x", "/good"]))], Path(tmp), adjust(base))
                titles = [a.title for a in result.articles]
                texts = "".join(a.text for a in result.articles)
                deferred = (
                    "RFC 9309" in note
                )  # the host is off limits this pass: the articles wait, not lost
                lost = int("良い記事" not in titles and not deferred) + int(
                    expect is not None and expect not in texts
                )
                skipped = [f"`{s['reason']}` ({s['detail'][:70]})" for s in result.skipped]
                did = (
                    ("skipped " + "; ".join(skipped))
                    if skipped
                    else f"indexed ({note or 'as expected'})"
                )
                did += f"; {note}" if deferred else ""
                if "robots.txt `Disallow" in what:
                    did += f"; /x requested {sum(1 for p, _ in site.hits if p == '/x')} times"
            except Exception as exc:  # noqa: BLE001 - the table reports it
                crash, lost, did = f"{type(exc).__name__}: {exc}", 1, "—"
            lines.append(
                f"| {what} | {did} | {lost} | {crash} | {time.perf_counter() - began:.1f} |"
            )
    # Crawl-delay and conditional requests need two requests or two passes: rows of their own
    with serve(Site(), "127.0.0.1") as site, tempfile.TemporaryDirectory() as tmp:
        site.page("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", "text/plain")
        for i in range(3):
            site.page(f"/{i}", html(f"記事{i}", f"{i}: " + paragraphs_cache[i], "青葉市"))
        result = crawl([Start(_feed(site, ["/0", "/1", "/2"]))], Path(tmp), base)
        times = [t for p, t in site.hits if p != "/robots.txt"]
        gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
        lines.append(
            f"| robots.txt `Crawl-delay: 1` (JSEARCH_CRAWL_DELAY 0) | indexed {len(result.articles)}; gaps "
            f"between requests {min(gaps):.2f}–{max(gaps):.2f} s | {3 - len(result.articles)} | none | — |"
        )
        remember(Path(tmp), result, "bench")
        again = crawl([Start(_feed(site, ["/0", "/1", "/2"]))], Path(tmp), base)
        lines.append(
            f"| second pass, pages unchanged (ETag) | {again.not_modified} × 304 not_modified, "
            f"{again.fetched} fetched | 0 | none | — |"
        )
    lines.append("")


# ---------------------------------------------------------------- near-duplicates


CONTACT = "<p>お問い合わせ先: 青葉市役所 情報政策課 デジタル推進係 電話 0120-000-000 メール dx@example.lg.jp</p>"
CHROME = [
    ("青葉市", "くらし・手続き 子育て・教育 健康・福祉", "", CONTACT),
    (
        "自治体ニュース",
        "広告 PR 人気記事ランキング",
        "<p>（青葉市の発表を転載しています）</p>",
        "<p>関連記事: 窓口改革の最前線 / 自治体DXの現在地 / 電子申請の広がり</p><p>この記事をシェアする</p>"
        + CONTACT,
    ),
    (
        "ジチタイ通信",
        "会員登録 ログイン メルマガ",
        "<p>2024年4月1日 配信</p>",
        "<p>この記事に関するお問い合わせは各自治体へ。</p>",
    ),
]


def extracted(title: str, body: str, chrome: tuple[str, str, str, str], date: str) -> str:
    site, words, lead, tail = chrome
    page = html(title, body, site, date, words, lead, tail).encode()
    fetched = Fetched("http://127.0.0.1/x", 200, page, "text/html", "utf-8", Validators())
    return article_of(fetched, Candidate("http://127.0.0.1/x"), "", frozenset({"127.0.0.1"})).text


def duplicate_pairs(count: int, paras: list[tuple[str, str]], lines: list[str]) -> None:
    rng = random.Random(20261203)
    by_topic: dict[str, list[str]] = {}
    for topic, text in paras:
        by_topic.setdefault(topic, []).append(text)
    topics = [t for t, texts in by_topic.items() if len(texts) >= 4]
    same, different = [], []
    for _ in range(count):
        topic = rng.choice(topics)
        a, b, c, d = rng.sample(by_topic[topic], 4)
        first, second = rng.sample(CHROME, 2)
        same.append(
            (
                extracted(topic, f"{a}\n{b}", first, "2024-04-01"),
                extracted(f"【転載】{topic}", f"{a}\n{b}", second, "2024-04-03"),
            )
        )
        different.append(
            (
                extracted(topic, f"{a}\n{b}", first, "2024-04-01"),  # one site: same template and
                extracted(topic, f"{c}\n{d}", first, "2024-04-01"),
            )
        )  # boilerplate in the article

    def scores(pairs: list[tuple[str, str]], size: int) -> list[float]:
        return [dedup.signature(x, size).jaccard(dedup.signature(y, size)) for x, y in pairs]

    def rates(s: list[float], d: list[float], t: float) -> tuple[float, float]:
        tp, fp = sum(v >= t for v in s), sum(v >= t for v in d)
        return (tp / (tp + fp) if tp + fp else 1.0), tp / len(s)

    lines += [
        "## Near-duplicates",
        "",
        f"{count} pairs of the same article (two JSQuAD paragraphs) in two of three site templates with other "
        "headers, navigation, footers, a lead line (「転載」, a date) and a tail (related links, share line) inside "
        f"the article, and {count} pairs of different articles on the same topic (other paragraphs of the same "
        "Wikipedia title, so the same words) published by one site (the same template, lead and contact block inside "
        "the article), each page extracted by the crawler's path (trafilatura). The score is "
        f"MinHash ({dedup.NUM_PERM} permutations) estimated Jaccard of character shingles. The threshold is chosen "
        "on the even-numbered pairs (best F1; among tied thresholds the middle one, the widest margin on both sides) "
        "and measured on the odd-numbered ones.",
        "",
        "| shingle | same-article score min / median | different-article score median / max | chosen threshold | "
        "precision (held-out) | recall (held-out) | precision (all) | recall (all) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    grid = [round(0.2 + 0.05 * i, 2) for i in range(16)]
    for size in (3, 5, 7):
        s, d = scores(same, size), scores(different, size)
        tune_s, tune_d, test_s, test_d = s[::2], d[::2], s[1::2], d[1::2]

        def f1(t: float, tune_s: list[float] = tune_s, tune_d: list[float] = tune_d) -> float:
            p, r = rates(tune_s, tune_d, t)
            return 2 * p * r / (p + r) if p + r else 0.0

        top = max(round(f1(t), 6) for t in grid)
        tied = [t for t in grid if round(f1(t), 6) == top]
        best = tied[len(tied) // 2]
        hp, hr = rates(test_s, test_d, best)
        ap, ar = rates(s, d, best)
        ss, sd = sorted(s), sorted(d)
        lines.append(
            f"| {size}{' (used)' if size == dedup.SHINGLE else ''} | {ss[0]:.2f} / {ss[len(ss) // 2]:.2f} | "
            f"{sd[len(sd) // 2]:.2f} / {sd[-1]:.2f} | {best:.2f} | {hp:.3f} | {hr:.3f} | {ap:.3f} | {ar:.3f} |"
        )
    s, d = scores(same, dedup.SHINGLE), scores(different, dedup.SHINGLE)
    lines += [
        "",
        f"Shingle {dedup.SHINGLE} on all {2 * count} pairs, by threshold (the product uses "
        f"{dedup.THRESHOLD}):",
        "",
        "| threshold | precision | recall |",
        "|---|---|---|",
    ]
    for threshold in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        p, r = rates(s, d, threshold)
        lines.append(
            f"| {threshold}{' (used)' if threshold == dedup.THRESHOLD else ''} | {p:.3f} | {r:.3f} |"
        )
    lines.append("")


def overlap(count: int, paras: list[tuple[str, str]], lines: list[str]) -> None:
    """How many of the big crawl's articles (no two sharing more than one of their three paragraphs) a threshold
    takes for near-duplicates of an earlier one: the cost, on partly overlapping articles, of a low threshold."""
    texts = [f"{title}\n{body}" for title, body in article_texts(count, paras)]
    signatures = [dedup.signature(t) for t in texts]
    lines += [
        "## Partly overlapping articles",
        "",
        f"The {count:,} generated articles of the crawl below (raw text, no page template): how many a threshold "
        "matches with an earlier one, as the crawler would count them.",
        "",
        "| threshold | taken for near-duplicates |",
        "|---|---|",
    ]
    for threshold in (0.4, 0.45, 0.5, 0.6, 0.7):
        near = dedup.Near(threshold)
        found = 0
        for i, minhash in enumerate(signatures):
            if near.match(str(i), minhash) is not None:
                found += 1
            else:
                near.add(str(i), minhash)
        lines.append(
            f"| {threshold}{' (used)' if threshold == dedup.THRESHOLD else ''} | {found:,} |"
        )
    lines.append("")


paragraphs_cache: list[str] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--parts", default="dedup,hostile,overlap,crawl")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    paras = paragraphs()
    paragraphs_cache.extend(t for _, t in paras[:10])
    lines = [
        "# Crawler: fixture sites on loopback",
        "",
        "Timings are noisy: a shared 2-core machine, other engineers' jobs running at the same time.",
        "",
    ]
    parts = args.parts.split(",")
    steps = [
        ("dedup", lambda: duplicate_pairs(args.pairs, paras, lines)),
        ("hostile", lambda: hostile(lines)),
        ("overlap", lambda: overlap(args.articles, paras, lines)),
        ("crawl", lambda: big_crawl(args.articles, paras, lines)),
    ]
    for name, step in steps:
        if name in parts:
            step()
            if (
                args.out
            ):  # written after each part: a long run that is stopped keeps what it measured
                args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
