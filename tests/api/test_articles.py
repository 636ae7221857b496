"""`/articles` on a real server: paging, one article, uploads that are searchable at once, deletes, bad input."""

from __future__ import annotations

import pytest

NEW = {
    "title": "ゆずりは町の電子申請ポータル",
    "source": "テスト通信",
    "published": "2024-05-01",
    "url": "https://example.invalid/yuzuriha",
    "body": "ゆずりは町では住民票の写しの電子申請ポータルを開設し、窓口に来なくても手続きが済むようにした。"
    "三鷹市の取り組みを参考に、オンライン決済にも対応した。",
}


def test_list_is_paged(client, api_engine):
    first = client.get("/articles", params={"limit": 2}).json()
    assert first["total"] >= 5 and first["offset"] == 0 and len(first["articles"]) == 2
    assert set(first["articles"][0]) == {"id", "title", "source", "published", "url", "chunks"}
    rest = client.get("/articles", params={"offset": 2, "limit": 200}).json()
    ids = [a["id"] for a in first["articles"] + rest["articles"]]
    assert len(ids) == len(set(ids)) == first["total"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}]
)
def test_bad_paging_is_422(client, assert_error, params):
    assert_error(client.get("/articles", params=params), 422, next(iter(params)))


def test_one_article_with_its_passages(client):
    listed = client.get("/articles", params={"limit": 200}).json()["articles"]
    one = max(listed, key=lambda a: a["chunks"])
    article = client.get(f"/articles/{one['id']}").json()
    assert (
        article["id"] == one["id"] and article["text"] and len(article["passages"]) == one["chunks"]
    )
    for passage in article["passages"]:
        assert article["text"][passage["start"] : passage["end"]] == passage["text"]
    assert any(p["municipalities"] for p in article["passages"])


@pytest.mark.parametrize(
    "path",
    [
        "/articles/ffffffffffffffff",
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/articles/%2e%2e",
        "/articles/a%00b",
        "/articles/" + "x" * 300,
    ],
)
def test_unknown_or_hostile_ids_are_404_json(client, assert_error, path):
    assert_error(client.get(path), 404)


def test_raw_traversal_path_is_404_json(server, assert_error):
    import httpx

    with httpx.Client() as raw:
        response = raw.send(raw.build_request("GET", server + "/articles/../../etc/passwd"))
    assert_error(response, 404)
    assert "root:" not in response.text


def test_added_article_is_searchable_at_once_then_deleted(client, auth, assert_error):
    added = client.post("/articles", json=NEW, headers=auth)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["status"] in ("added", "updated") and body["generation"].startswith("g")
    assert added.headers["location"] == f"/articles/{body['id']}"
    assert client.get("/health").json()["generation"] == body["generation"]

    answer = client.get("/search", params={"q": "ゆずりは町の電子申請ポータル", "k": 3}).json()
    assert answer["generation"] == body["generation"]
    assert answer["passages"][0]["article_id"] == body["id"]
    assert (
        answer["passages"][0]["title"] == NEW["title"]
        and answer["passages"][0]["published"] == "2024-05-01"
    )
    stored = client.get(f"/articles/{body['id']}").json()
    assert stored["source"] == "テスト通信" and stored["url"] == NEW["url"]

    again = client.post("/articles", json=NEW, headers=auth).json()
    assert again["id"] == body["id"] and again["status"] == "unchanged"

    gone = client.delete(f"/articles/{body['id']}", headers=auth)
    assert gone.status_code == 200 and gone.json()["status"] == "removed"
    assert_error(client.get(f"/articles/{body['id']}"), 404, "id")
    answer = client.get("/search", params={"q": "ゆずりは町の電子申請ポータル", "k": 10}).json()
    assert body["id"] not in {p["article_id"] for p in answer["passages"]}
    assert_error(client.delete(f"/articles/{body['id']}", headers=auth), 404, "id")


@pytest.mark.parametrize(
    "name, data, needle",
    [
        (
            "kamiyama-note.md",
            "---\ntitle: かみやま村の行政手続きオンライン化\nsource: 村報\ndate: 2023-04-01\n---\n"
            "# かみやま村の行政手続きオンライン化\n\nかみやま村はすべての届出をスマートフォンで受け付ける。\n",
            "かみやま村の行政手続きオンライン化",
        ),
        (
            "tsubaki.html",
            "<html><head><title>つばき市のチャットボット</title></head><body><nav>メニュー</nav>"
            "<main><h1>つばき市のチャットボット</h1><p>つばき市は AI チャットボットで夜間の問い合わせに答える。</p>"
            "</main></body></html>",
            "つばき市のチャットボット",
        ),
        (
            "memo.txt",
            "ふじみ台の窓口予約\n庁内報\n2022.06.01\nふじみ台では窓口の予約をウェブで受け付けている。\n",
            "ふじみ台の窓口予約",
        ),
    ],
)
def test_uploaded_file_becomes_a_searchable_article(client, auth, name, data, needle):
    added = client.post(
        "/articles",
        files={"file": (name, data.encode("utf-8"))},
        data={"source": "アップロード"},
        headers=auth,
    )
    assert added.status_code == 201, added.text
    article = client.get(f"/articles/{added.json()['id']}").json()
    assert article["title"] == needle and article["source"] == "アップロード"
    top = client.get("/search", params={"q": needle, "k": 1}).json()["passages"][0]
    assert top["article_id"] == added.json()["id"]
    assert client.delete(f"/articles/{article['id']}", headers=auth).status_code == 200


@pytest.mark.parametrize(
    "kwargs, status, field",
    [
        (
            {
                "content": b'{"title": "x", "body": ',
                "headers": {"content-type": "application/json"},
            },
            422,
            "body",
        ),
        ({"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, 422, "body"),
        ({"json": {"title": "x"}}, 422, "body"),
        ({"json": {"title": "  ", "body": "本文"}}, 422, "title"),
        ({"json": {**NEW, "published": "2024-02-31"}}, 422, "published"),
        ({"json": {**NEW, "url": "javascript:alert(1)"}}, 422, "url"),
        ({"json": {**NEW, "extra": 1}}, 422, "extra"),
        (
            {"content": "タイトル\n本文".encode(), "headers": {"content-type": "text/plain"}},
            415,
            "content-type",
        ),
        ({"files": {"file": ("virus.exe", b"MZ\x90\x00")}}, 422, "file"),
        ({"files": {"file": ("empty.txt", b"   ")}}, 422, "file"),
        ({"files": {"file": ("binary.txt", b"\x00\x01\x02")}}, 422, "file"),
        ({"files": {"file": ("broken.pdf", b"%PDF-1.4 not really")}}, 422, "file"),
        ({"data": {"title": "ファイルなし"}, "files": {"other": ("a.txt", b"x")}}, 422, "file"),
    ],
)
def test_bad_uploads_are_json_4xx(client, auth, assert_error, kwargs, status, field):
    kwargs = dict(kwargs)
    headers = {**auth, **kwargs.pop("headers", {})}
    assert_error(client.post("/articles", headers=headers, **kwargs), status, field)
    assert client.get("/health").status_code == 200
