"""`/sources` on a real server: list, add and remove with the write key, crawl now as a job whose articles get
the ids `POST /articles` gives their URLs, and `JSEARCH_CRAWL=true` crawling due sources in the background."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import httpx
import pytest
from sitekit import Site, article_html, serve

from api.settings import Settings
from corpus.article import article_id

KEY = "sources-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PRESS = (
    "青葉市は市民課の窓口でキャッシュレス決済を始めました。\n"
    "住民票の写しや印鑑登録証明書の手数料を、クレジットカードや電子マネー、QRコード決済で支払えます。\n"
    "導入にあたっては、会計課と情報政策課が連携し、半年かけて業務の流れを見直しました。"
)


@pytest.fixture(scope="module")
def city() -> Iterator[Site]:
    with serve(Site()) as site, serve(Site(), "127.0.0.2") as news:
        site.page(
            "/press/1.html", article_html("窓口キャッシュレス決済を開始", PRESS, date="2024-04-01")
        )
        news.page(
            "/a/1.html",
            article_html("【転載】窓口キャッシュレス", PRESS, site="自治体ニュース", chrome="広告"),
        )
        site.page(
            "/news/",
            '<html><body><a href="/press/1.html">1</a></body></html>',
        )
        news.page("/list/", '<html><body><a href="/a/1.html">1</a></body></html>')
        site.other = news  # type: ignore[attr-defined]
        yield site


def _server(tmp_path_factory, bundled_index, embedder, gazetteer, start_server, **extra):
    from search.engine import Engine

    index = tmp_path_factory.mktemp("sources") / "index"
    shutil.copytree(bundled_index, index, symlinks=True)
    settings = Settings(index_dir=index, api_key=KEY, lock_timeout=30, crawl_delay=0, **extra)
    return start_server(settings, Engine(index, embedder, gazetteer))


def _wait_job(client: httpx.Client, job_id: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_sources_add_crawl_as_a_job_and_remove(
    tmp_path_factory, bundled_index, embedder, gazetteer, start_server, city, assert_error
):
    with (
        _server(tmp_path_factory, bundled_index, embedder, gazetteer, start_server) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        assert client.get("/sources").json() == {"sources": []}
        assert_error(client.post("/sources", json={"url": city.base + "/news/"}), 401)
        assert_error(client.post("/sources", json={"url": "ftp://x/"}, headers=AUTH), 422, "url")
        assert_error(
            client.post("/sources", json={"url": city.base, "every": "10s"}, headers=AUTH),
            422,
            "every",
        )
        made = client.post(
            "/sources",
            json={"url": city.base + "/news/", "every": "1d", "name": "青葉市"},
            headers=AUTH,
        )
        assert made.status_code == 201, made.text
        source = made.json()
        assert (
            source["every"] == "1d" and source["last_crawl"] is None and source["name"] == "青葉市"
        )
        other = client.post(
            "/sources", json={"url": city.other.base + "/list/"}, headers=AUTH
        ).json()
        assert_error(client.post("/sources/0123456789ab/crawl", headers=AUTH), 404)

        for crawled in (source, other):
            started = client.post(f"/sources/{crawled['id']}/crawl", headers=AUTH)
            assert started.status_code == 202 and started.json()["kind"] == "crawl", started.text
            job = _wait_job(client, started.json()["id"])
            assert job["status"] == "succeeded", job
        assert job["result"]["duplicates"] == 1 and job["result"]["new"] == 0  # the syndicated copy
        answer = client.get("/search", params={"q": "窓口キャッシュレス決済", "k": 3}).json()
        top = answer["passages"][0]
        url = city.base + "/press/1.html"
        assert top["url"] == url and top["also_at"] == [city.other.base + "/a/1.html"]
        assert all("also_at" in p for p in answer["passages"])
        posted = client.post(
            "/articles",
            json={"title": "差し替え", "body": PRESS + "\n追記。", "url": url},
            headers=AUTH,
        )
        assert (
            posted.json()["id"] == top["article_id"] == article_id(url)
            and posted.json()["status"] == "updated"
        )

        listed = client.get("/sources").json()["sources"]
        assert [s["url"] for s in listed] == [city.base + "/news/", city.other.base + "/list/"]
        assert listed[0]["last_crawl"] and listed[0]["last_summary"]["new"] == 1
        assert client.delete(f"/sources/{source['id']}", headers=AUTH).status_code == 200
        assert_error(client.delete(f"/sources/{source['id']}", headers=AUTH), 404)


def test_serve_with_crawl_true_crawls_due_sources_in_the_background(
    tmp_path_factory, bundled_index, embedder, gazetteer, start_server, city
):
    with (
        _server(
            tmp_path_factory,
            bundled_index,
            embedder,
            gazetteer,
            start_server,
            crawl=True,
            crawl_check_seconds=1,
        ) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        client.post("/sources", json={"url": city.base + "/news/", "every": "1d"}, headers=AUTH)
        deadline = time.monotonic() + 120
        while not client.get("/sources").json()["sources"][0]["last_crawl"]:
            assert time.monotonic() < deadline, "the background crawler did not run"
            time.sleep(0.2)
        time.sleep(1)  # the switch to the new commit point
        urls = [
            p["url"]
            for p in client.get("/search", params={"q": "窓口キャッシュレス決済", "k": 3}).json()[
                "passages"
            ]
        ]
        assert city.base + "/press/1.html" in urls


def test_the_page_lists_sources_and_shows_also_at(
    tmp_path_factory, bundled_index, embedder, gazetteer, start_server, city, page
):
    with (
        _server(tmp_path_factory, bundled_index, embedder, gazetteer, start_server) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        page.goto(base + "/")
        page.locator("#q").wait_for()
        assert page.locator("#crawl-sources").is_hidden()  # no sources: no section
        made = client.post(
            "/sources", json={"url": city.base + "/news/", "name": "青葉市"}, headers=AUTH
        ).json()
        other = client.post(
            "/sources", json={"url": city.other.base + "/list/"}, headers=AUTH
        ).json()
        for source in (made, other):
            job = client.post(f"/sources/{source['id']}/crawl", headers=AUTH).json()
            assert _wait_job(client, job["id"])["status"] == "succeeded"
        page.goto(base + "/?q=" + "窓口キャッシュレス決済")
        page.locator("#passages li.passage").first.wait_for()
        items = page.locator("#crawl-source-list li")
        assert items.count() == 2
        first = items.first.inner_text()
        assert "青葉市" in first and city.base + "/news/" in first and "最終取得" in first
        assert items.first.locator("time").get_attribute("datetime")  # when it was last crawled
        also = page.locator("#passages li.passage").first.locator(".passage-also a")
        assert also.get_attribute("href") == city.other.base + "/a/1.html"
