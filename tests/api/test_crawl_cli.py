"""`jsearch crawl`, `jsearch sources` and transfer bundles (`crawl --to`, `add FILE.tar`) end to end: fixture
sites on loopback, the real model, a real index; the refused bundles leave the index as it was."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sitekit import Site, article_html, serve
from typer.testing import CliRunner

from api.cli import app
from corpus.article import article_id

ENV = {"JSEARCH_CRAWL_DELAY": "0", "JSEARCH_MERGE": "false"}
PRESS = (
    "青葉市は市民課の窓口でキャッシュレス決済を始めました。\n"
    "住民票の写しや印鑑登録証明書の手数料を、クレジットカードや電子マネー、QRコード決済で支払えます。\n"
    "導入にあたっては、会計課と情報政策課が連携し、半年かけて業務の流れを見直しました。"
)
OTHER = (
    "緑川町は保育所の入所申請をオンラインで受け付けます。\n"
    "申請書の郵送が要らなくなり、審査の結果もマイページで確かめられます。"
)


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[Site, Site]]:
    with serve(Site()) as city, serve(Site(), "127.0.0.2") as news:
        city.page(
            "/press/1.html", article_html("窓口キャッシュレス決済を開始", PRESS, date="2024-04-01")
        )
        city.page(
            "/press/2.html", article_html("保育所の入所申請をオンライン化", OTHER, site="緑川町")
        )
        city.page(
            "/feed.rdf",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>x</link><description>d'
            f"</description><item><link>{city.base}/press/1.html</link></item><item><link>{city.base}"
            f"/press/2.html?utm_source=rss</link></item><item><link>{city.base}/press/gone.html</link></item>"
            "</channel></rss>",
            "application/rss+xml",
        )
        news.page(
            "/a/123.html",
            article_html(
                "【転載】窓口キャッシュレス決済を開始",
                PRESS,
                site="自治体ニュース",
                chrome="広告 関連記事",
            ),
        )
        news.page("/list/", '<html><body><a href="/a/123.html">転載</a></body></html>')
        yield city, news


def test_crawl_indexes_with_post_ids_and_a_second_pass_costs_304s(sites, tmp_path):
    city, news = sites
    idx = tmp_path / "idx"
    first = run(
        "crawl", city.base + "/feed.rdf", news.base + "/list/", "--index-dir", str(idx), "--json"
    )
    assert first.exit_code == 0, first.output
    done = json.loads(first.stdout)
    assert (done["fetched"], done["new"], done["updated"], done["duplicates"]) == (3, 2, 0, 1)
    assert done["skipped"] == [
        {"url": city.base + "/press/gone.html", "reason": "http_status", "detail": "HTTP 404"}
    ]
    answer = json.loads(
        run("search", "窓口キャッシュレス", "--index-dir", str(idx), "--json", "-k", "3").stdout
    )
    top = answer["passages"][0]
    assert top["url"] == city.base + "/press/1.html"
    assert top["article_id"] == article_id(
        city.base + "/press/1.html"
    )  # the id POST /articles gives that url
    assert top["also_at"] == [news.base + "/a/123.html"]
    assert len({p["article_id"] for p in answer["passages"] if "キャッシュレス" in p["title"]}) == 1
    again = json.loads(
        run(
            "crawl",
            city.base + "/feed.rdf",
            news.base + "/list/",
            "--index-dir",
            str(idx),
            "--json",
        ).stdout
    )
    assert (again["fetched"], again["not_modified"], again["new"]) == (0, 3, 0)
    text = run("crawl", city.base + "/feed.rdf", "--index-dir", str(idx))
    assert text.exit_code == 0 and "未更新 304 2" in text.output and "2 not modified" in text.output


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_bundle_round_trip_and_refusals(sites, tmp_path):
    city, news = sites
    bundle = tmp_path / "out.tar"
    made = run(
        "crawl",
        city.base + "/feed.rdf",
        news.base + "/list/",
        "--to",
        str(bundle),
        "--index-dir",
        str(tmp_path / "internet-side"),
        "--json",
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["new"] == 2 and json.loads(made.stdout)["bundle_members"] == 2
    members = _members(bundle)
    manifest = json.loads(members["manifest.json"])
    assert manifest["count"] == 2 and set(manifest["files"]) == set(members) - {"manifest.json"}
    first_md = members[sorted(manifest["files"])[0]].decode()
    assert (
        first_md.startswith("---\ntitle: ")
        and "fetched_at: " in first_md
        and "url: http" in first_md
    )
    assert not (tmp_path / "internet-side" / "generations").exists()  # nothing was indexed there

    lgwan = tmp_path / "lgwan"
    name = sorted(manifest["files"])[0]
    bad = {
        "changed": {**members, name: members[name].replace("。".encode(), "．".encode(), 1)},
        "missing": {k: v for k, v in members.items() if k != name},
        "extra": {**members, "articles/extra.md": b"---\ntitle: x\n---\nx\n"},
    }
    for case, content in bad.items():
        _tar(tmp_path / f"{case}.tar", content)
    whole = bundle.read_bytes()
    (tmp_path / "truncated.tar").write_bytes(
        whole[: whole.index(b'"count"') + 3]
    )  # inside the manifest
    (tmp_path / "cut.tar").write_bytes(whole[: whole.index(b"fetched_at") + 3])  # inside an article
    for case in (*bad, "truncated", "cut"):
        refused = run("add", str(tmp_path / f"{case}.tar"), "--index-dir", str(lgwan), "--json")
        assert refused.exit_code == 1, (case, refused.output)
        assert "バンドル" in refused.output and "refused, nothing was indexed" in refused.output, (
            refused.output
        )
        assert not (lgwan / "generations").exists(), case

    added = run("add", str(bundle), "--index-dir", str(lgwan), "--json")
    assert added.exit_code == 0, added.output
    summary = json.loads(added.stdout)
    assert len(summary["added"]) == 2 and sorted(summary["ids"]) == sorted(
        article_id(city.base + p) for p in ("/press/1.html", "/press/2.html")
    )
    twice = json.loads(run("add", str(bundle), "--index-dir", str(lgwan), "--json").stdout)
    assert twice["unchanged"] == 2 and twice["added"] == twice["updated"] == []
    answer = json.loads(
        run("search", "窓口キャッシュレス", "--index-dir", str(lgwan), "--json", "-k", "1").stdout
    )
    assert answer["passages"][0]["also_at"] == [
        news.base + "/a/123.html"
    ]  # carried across in the bundle


def test_sources_add_list_remove_and_due_crawls(sites, tmp_path):
    city, _ = sites
    idx = str(tmp_path / "idx")
    added = run(
        "sources",
        "add",
        city.base + "/feed.rdf",
        "--every",
        "6h",
        "--name",
        "青葉市",
        "--index-dir",
        idx,
        "--json",
    )
    assert added.exit_code == 0, added.output
    source = json.loads(added.stdout)
    assert source["every"] == "6h" and source["last_crawl"] is None
    bad = run("sources", "add", "ftp://x/feed", "--index-dir", idx)
    assert bad.exit_code == 2 and "http://" in bad.output
    assert (
        run("sources", "add", city.base + "/x", "--every", "soon", "--index-dir", idx).exit_code
        == 2
    )
    crawled = json.loads(
        run("crawl", "--index-dir", idx, "--json").stdout
    )  # no URLs: the due sources
    assert crawled["new"] == 2 and crawled["sources"] == [source["id"]]
    listed = json.loads(run("sources", "list", "--index-dir", idx, "--json").stdout)["sources"]
    assert listed[0]["last_crawl"] and listed[0]["last_summary"]["new"] == 2
    nothing = json.loads(
        run("crawl", "--index-dir", idx, "--json").stdout
    )  # crawled 0 s ago: not due
    assert nothing["fetched"] == nothing["not_modified"] == 0 and nothing["sources"] == []
    assert run("sources", "remove", city.base + "/feed.rdf", "--index-dir", idx).exit_code == 0
    gone = run("sources", "remove", city.base + "/feed.rdf", "--index-dir", idx)
    assert gone.exit_code == 1 and "登録されていない" in gone.output
