"""A crawl pass against fixture sites on loopback: discovery, extraction, charsets, conditional requests,
and every hostile case the issue names; each ends in an article or a reported skip, never a crash."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace

from sitekit import Hit, Site, article_html

from corpus.crawl.config import CrawlConfig
from corpus.crawl.run import Start, crawl, remember
from corpus.identity import upload_id

FAST = CrawlConfig(delay=0, retries=2, backoff=0.05, retry_after_max=5)
BODY = (
    "青葉市は市民課の窓口でキャッシュレス決済を始めました。\n"
    "住民票の写しや印鑑登録証明書の手数料を、クレジットカードや電子マネー、QRコード決済で支払えます。\n"
    "導入にあたっては、会計課と情報政策課が連携し、半年かけて業務の流れを見直しました。"
)

TOPICS = (
    "市民課は転入届のオンライン申請を始め、窓口の待ち時間が半分になりました。",
    "教育委員会は全小中学校にタブレットを配り、家庭学習にも使えるようにしました。",
    "防災課はLINEで避難所の混雑状況を知らせる仕組みを作りました。",
    "税務課はRPAで固定資産税の入力作業を自動化し、年間三百時間を減らしました。",
    "子育て支援課は保育所の入所申請を電子化し、書類の郵送をなくしました。",
)


def rss1(base: str, links: list[str], dates: list[str] | None = None) -> str:
    items = "".join(
        f'<item rdf:about="{link}"><title>記事{i}</title><link>{link}</link>'
        + (f"<dc:date>{dates[i]}</dc:date>" if dates else "")
        + "</item>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{base}/"><title>新着</title><link>{base}/</link><description>d</description></channel>'
        f"{items}</rdf:RDF>"
    )


def feed_of(site: Site, paths: list[str], dates: list[str] | None = None) -> str:
    site.page(
        "/feed.rdf", rss1(site.base, [site.base + p for p in paths], dates), "application/rdf+xml"
    )
    return site.base + "/feed.rdf"


def reasons(result) -> dict[str, str]:
    return {s["url"].rsplit("/", 1)[-1]: s["reason"] for s in result.skipped}


def test_rss1_feed_articles_with_feed_dates_canonical_urls_and_the_post_id(site, tmp_path):
    site.page("/a.html", article_html("窓口キャッシュレス決済を開始", BODY, date="2024-04-01"))
    site.page(
        "/b.html",
        article_html(
            "オンライン申請を拡充", "青葉市は転入届などのオンライン申請を始めます。\n" * 3
        ),
    )
    site.page(
        "/c.html",
        article_html(
            "正規URLのある記事", "この記事には正規URLがあります。\n" * 3, canonical="/news/c"
        ),
    )
    feed = feed_of(
        site,
        ["/a.html", "/b.html?utm_source=rss&utm_medium=feed#top", "/c.html"],
        ["2024-04-02T10:00:00+09:00", "2024-05-02T10:00:00+09:00", "2024-06-01T00:00:00Z"],
    )
    result = crawl([Start(feed, "青葉市公式")], tmp_path, FAST)
    by_title = {a.title: a for a in result.articles}
    assert set(by_title) == {
        "窓口キャッシュレス決済を開始",
        "オンライン申請を拡充",
        "正規URLのある記事",
    }
    first = by_title["窓口キャッシュレス決済を開始"]
    assert first.published == "2024-04-01"  # the page's own date wins over the feed's
    assert first.source == "青葉市"  # the site name from <title>
    assert "半年かけて業務の流れを見直しました" in first.text and "ホーム" not in first.text
    second = by_title["オンライン申請を拡充"]
    assert second.url == site.base + "/b.html" and second.published == "2024-05-02"
    assert by_title["正規URLのある記事"].url == site.base + "/news/c"
    for article in result.articles:
        assert article.id == upload_id(replace(article, id="")) and article.path == ""
    assert result.fetched == 3 and result.skipped == [] and result.not_modified == 0
    assert all(h.user_agent == FAST.user_agent for h in site.hits)


def test_second_pass_is_conditional_and_costs_304s(site, tmp_path):
    site.page("/a.html", article_html("一", BODY))
    site.routes["/lm.html"] = lambda hit: (
        (304, {}, b"")
        if hit.headers.get("If-Modified-Since") == "Mon, 01 Apr 2024 00:00:00 GMT"
        else (
            200,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Last-Modified": "Mon, 01 Apr 2024 00:00:00 GMT",
            },
            article_html("二", "最終更新日時だけを返すページです。\n" * 3).encode(),
        )
    )
    feed = feed_of(site, ["/a.html", "/lm.html"])
    first = crawl([Start(feed)], tmp_path, FAST)
    assert first.fetched == 2
    remember(tmp_path, first, "2024-06-01T00:00:00+00:00")
    second = crawl([Start(feed)], tmp_path, FAST)
    assert (second.fetched, second.not_modified, second.articles) == (0, 2, [])
    gone = crawl(
        [Start(feed)], tmp_path, FAST, live=lambda ids: set()
    )  # the index lost them: fetch in full
    assert gone.fetched == 2 and gone.not_modified == 0


def test_shift_jis_and_euc_jp_pages_come_out_as_the_right_text(site, tmp_path):
    text = "髙橋市長は①窓口改革と②デジタル化を発表しました。㈱青葉と連携します。\n" * 3
    site.page(
        "/sjis-meta.html",
        article_html("シフトJIS", text, charset="Shift_JIS").encode("cp932"),
        "text/html",
    )
    site.page(
        "/sjis-header.html",
        article_html(
            "ヘッダーで指定",
            "髙橋市長の記者会見は、ヘッダーだけが文字コードを名乗るページです。\n" * 3,
            charset="x-unknown",
        ).encode("cp932"),
        "text/html; charset=Shift_JIS",
    )
    euc = (
        "北海道青葉町は住民票の写しの交付処理にRPAを導入し、年間三百時間の作業を減らしました。\n"
        * 4
    )
    page = article_html("EUC-JPのページ", euc).replace('<meta charset="utf-8">', "")
    site.page("/euc.html", page.encode("euc_jp"), "text/html")
    result = crawl(
        [Start(feed_of(site, ["/sjis-meta.html", "/sjis-header.html", "/euc.html"]))],
        tmp_path,
        FAST,
    )
    texts = {a.title: a.text for a in result.articles}
    assert result.skipped == []
    assert (
        "髙橋市長は①窓口改革と②デジタル化を発表しました。㈱青葉と連携します。" in texts["シフトJIS"]
    )
    assert "髙橋市長" in texts["ヘッダーで指定"]
    assert "年間三百時間の作業を減らしました" in texts["EUC-JPのページ"]


def test_sitemap_index_with_a_gzipped_sitemap_and_a_listing_page(site, tmp_path):
    for i in range(4):
        site.page(f"/p{i}.html", article_html(f"記事{i}", TOPICS[i] * 3))
    urlset = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(
            f"<url><loc>{site.base}/p{i}.html</loc><lastmod>2024-0{i + 1}-01</lastmod></url>"
            for i in (0, 1)
        )
        + "</urlset>"
    )
    site.page("/sm1.xml.gz", gzip.compress(urlset.encode()), "application/gzip")
    site.page(
        "/sitemap.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.base}/sm1.xml.gz</loc></sitemap><sitemap><loc>{site.base}/missing.xml</loc></sitemap>"
        "</sitemapindex>",
        "application/xml",
    )
    site.page(
        "/news/",
        '<html><body><a href="/p2.html">2</a> <a href="../p3.html#x">3</a> <a href="http://example.invalid/x">外</a>'
        '<a href="mailto:a@b">m</a></body></html>',
    )
    result = crawl([Start(site.base + "/sitemap.xml"), Start(site.base + "/news/")], tmp_path, FAST)
    assert result.skipped[1:] == [] and result.duplicate_count == 0, result.skipped
    assert sorted(a.title for a in result.articles) == ["記事0", "記事1", "記事2", "記事3"]
    assert {a.title: a.published for a in result.articles}["記事1"] == "2024-02-01"
    assert reasons(result) == {"missing.xml": "http_status"}


def test_atom_and_rss2_feeds(site, tmp_path):
    site.page("/x.html", article_html("Atomの記事", BODY))
    site.page("/y.html", article_html("RSS2の記事", "RSS 2.0 の記事です。青葉市のお知らせ。\n" * 3))
    site.page(
        "/atom.xml",
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>'
        f'<updated>2024-01-01T00:00:00Z</updated><entry><title>a</title><id>e1</id><link href="{site.base}/x.html"/>'
        "<updated>2024-03-03T00:00:00Z</updated></entry></feed>",
        "application/atom+xml",
    )
    site.page(
        "/rss.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{site.base}</link>'
        f"<description>d</description><item><title>y</title><link>{site.base}/y.html</link>"
        "<pubDate>Tue, 05 Mar 2024 09:00:00 +0900</pubDate></item></channel></rss>",
        "application/rss+xml",
    )
    result = crawl([Start(site.base + "/atom.xml"), Start(site.base + "/rss.xml")], tmp_path, FAST)
    assert {a.title: a.published for a in result.articles} == {
        "Atomの記事": "2024-03-03",
        "RSS2の記事": "2024-03-05",
    }


def test_429_and_503_honour_retry_after_then_give_up(site, tmp_path):
    calls: list[float] = []

    def busy_once(hit: Hit):
        calls.append(hit.at)
        if len(calls) == 1:
            return 429, {"Retry-After": "1", "Content-Type": "text/html"}, b""
        return (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            article_html("混雑後", BODY).encode(),
        )

    site.routes["/busy.html"] = busy_once
    site.routes["/down.html"] = lambda hit: (503, {"Retry-After": "0"}, b"")
    site.routes["/later.html"] = lambda hit: (503, {"Retry-After": "3600"}, b"")
    result = crawl(
        [Start(feed_of(site, ["/busy.html", "/down.html", "/later.html"]))], tmp_path, FAST
    )
    assert [a.title for a in result.articles] == ["混雑後"]
    assert calls[1] - calls[0] >= 0.95  # Retry-After: 1 was waited for
    assert reasons(result) == {"down.html": "http_status", "later.html": "retry_after"}
    assert site.count("/down.html") == FAST.retries + 1 and site.count("/later.html") == 1


def test_redirects_loops_other_hosts_and_link_local_addresses(site, other_site, tmp_path):
    other_site.page("/moved.html", article_html("移転先", BODY))
    site.routes["/loop1"] = (302, {"Location": "/loop2"}, b"")
    site.routes["/loop2"] = (302, {"Location": "/loop1"}, b"")
    for i in range(7):
        site.routes[f"/chain{i}"] = (301, {"Location": f"/chain{i + 1}"}, b"")
    site.page("/chain7", article_html("遠い", BODY))
    site.routes["/away"] = (302, {"Location": other_site.base + "/moved.html"}, b"")
    site.routes["/meta"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    site.routes["/meta6"] = (302, {"Location": "http://[fe80::1]/"}, b"")
    site.routes["/ftp"] = (302, {"Location": "ftp://127.0.0.1/x"}, b"")
    feed = feed_of(site, ["/loop1", "/chain0", "/away", "/meta", "/meta6", "/ftp"])
    result = crawl([Start(feed)], tmp_path, FAST)
    assert result.articles == []
    assert reasons(result) == {
        "loop1": "redirect",
        "chain0": "redirect",
        "away": "redirect",
        "meta": "refused_address",
        "meta6": "refused_address",
        "ftp": "refused_address",
    }
    allowed = crawl(
        [Start(feed)], tmp_path, replace(FAST, allow_hosts=frozenset({other_site.host}))
    )
    assert [a.url for a in allowed.articles] == [other_site.base + "/moved.html"]
    direct = crawl([Start("http://169.254.169.254/feed.rdf")], tmp_path, FAST)
    assert direct.skipped[0]["reason"] == "refused_address"


def test_size_caps_gzip_bomb_and_huge_pages(site, tmp_path):
    bomb = gzip.compress(b"<html><body><p>" + b"A" * (40 * 1024 * 1024) + b"</p></body></html>", 9)
    assert len(bomb) < 100_000
    site.page("/bomb.html", bomb, "text/html", **{"Content-Encoding": "gzip"})
    site.page("/huge.html", b"<html><body><p>" + "大".encode() * 4_000_000 + b"</p></body></html>")
    site.page(
        "/chunked.html", b"<p>" + b"x" * (11 * 1024 * 1024), **{"Transfer-Encoding": "chunked"}
    )
    site.page(
        "/ok.html",
        gzip.compress(article_html("圧縮された記事", BODY).encode()),
        "text/html",
        **{"Content-Encoding": "gzip"},
    )
    result = crawl(
        [Start(feed_of(site, ["/bomb.html", "/huge.html", "/chunked.html", "/ok.html"]))],
        tmp_path,
        FAST,
    )
    assert [a.title for a in result.articles] == ["圧縮された記事"]
    assert reasons(result) == {"bomb.html": "size", "huge.html": "size", "chunked.html": "size"}


def test_robots_disallow_and_crawl_delay(site, tmp_path):
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n", "text/plain")
    site.page("/a.html", article_html("公開", BODY))
    site.page("/b.html", article_html("公開2", "二つ目の公開記事です。\n" * 3))
    site.page("/private/x.html", article_html("非公開", BODY))
    result = crawl(
        [Start(feed_of(site, ["/a.html", "/private/x.html", "/b.html"]))], tmp_path, FAST
    )
    assert sorted(a.title for a in result.articles) == ["公開", "公開2"]
    assert reasons(result) == {"x.html": "robots"} and site.count("/private/x.html") == 0
    times = [h.at for h in site.hits if h.path != "/robots.txt"]
    assert all(
        b - a >= 0.95 for a, b in zip(times, times[1:])
    )  # Crawl-delay 1 beats JSEARCH_CRAWL_DELAY 0


def test_delay_setting_spaces_requests_to_one_host(site, tmp_path):
    for i in range(3):
        site.page(f"/{i}.html", article_html(f"記事{i}", TOPICS[i] * 3))
    crawl(
        [Start(feed_of(site, ["/0.html", "/1.html", "/2.html"]))],
        tmp_path,
        replace(FAST, delay=0.3),
    )
    times = [h.at for h in site.hits]
    assert len(times) == 5 and all(b - a >= 0.29 for a, b in zip(times, times[1:]))


def test_wrong_content_types_and_pages_without_text(site, tmp_path):
    site.page("/img.html", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    site.page("/data.json", b'{"a": 1}', "application/json")
    site.page(
        "/empty.html", "<html><head><title>空</title></head><body><nav>ホーム</nav></body></html>"
    )
    site.page(
        "/nav.html",
        "<html><body><header>青葉市</header><nav>ホーム 新着情報</nav><footer>c</footer></body></html>",
    )
    site.page("/blank.html", "   ")
    result = crawl(
        [
            Start(
                feed_of(
                    site, ["/img.html", "/data.json", "/empty.html", "/nav.html", "/blank.html"]
                )
            )
        ],
        tmp_path,
        FAST,
    )
    assert result.articles == []
    assert reasons(result) == {
        "img.html": "content_type",
        "data.json": "content_type",
        "empty.html": "no_text",
        "nav.html": "no_text",
        "blank.html": "no_text",
    }


def test_start_pages_that_fail_are_reported(site, tmp_path):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    site.page("/broken.xml", b"\x00\x01 not a feed", "application/octet-stream")
    result = crawl(
        [
            Start(site.base + "/nothing.rdf"),
            Start(site.base + "/broken.xml"),
            Start("file:///etc/passwd"),
            Start(f"http://127.0.0.1:{port}/feed.rdf"),
        ],
        tmp_path,
        FAST,
    )
    assert [s["reason"] for s in result.skipped] == [
        "http_status",
        "unreadable",
        "refused_address",
        "network",
    ]


def test_max_pages(site, tmp_path):
    for i in range(5):
        site.page(f"/{i}.html", article_html(f"記事{i}", TOPICS[i] * 3))
    result = crawl(
        [Start(feed_of(site, [f"/{i}.html" for i in range(5)]))], tmp_path, FAST, max_pages=2
    )
    assert len(result.articles) == 2 and [s["reason"] for s in result.skipped] == ["max_pages"] * 3


def test_the_same_article_on_two_sites_is_kept_once(site, other_site, tmp_path):
    site.page(
        "/press.html",
        article_html("窓口キャッシュレス決済を開始", BODY, site="青葉市", chrome="くらしの情報"),
    )
    other_site.page(
        "/syndicated.html",
        article_html(
            "【転載】窓口キャッシュレス決済を開始",
            BODY,
            site="自治体ニュース",
            chrome="広告 PR 関連記事",
        ),
    )
    first = crawl([Start(feed_of(site, ["/press.html"]))], tmp_path, FAST)
    remember(tmp_path, first, "t")
    second = crawl([Start(feed_of(other_site, ["/syndicated.html"]))], tmp_path, FAST)
    assert second.articles == [] and second.duplicate_count == 1
    assert second.duplicates == [(other_site.base + "/syndicated.html", first.articles[0].id)]
    time.sleep(0)  # both hosts answered; nothing else to wait for
