"""Who an upload is: a POST creates (the same content again is the same article), a file name or a title never
decides identity, replacing is explicit (PUT, or a POST with the same url)."""

from __future__ import annotations


def _upload(client, auth, name: str, text: str, **fields):
    return client.post(
        "/articles", files={"file": (name, text.encode("utf-8"))}, data=fields, headers=auth
    )


def test_two_departments_upload_different_files_with_the_same_name(client, auth):
    first = _upload(
        client,
        auth,
        "報告書.txt",
        "すずかけ町の報告書\n\nすずかけ町は戸籍の証明書をコンビニで交付した。\n",
    )
    second = _upload(
        client,
        auth,
        "報告書.txt",
        "すずかけ町の報告書\n\nすずかけ町は水道の開栓をウェブで受け付けた。\n",
    )
    try:
        assert first.status_code == second.status_code == 201, (first.text, second.text)
        assert first.json()["status"] == second.json()["status"] == "added"
        assert first.json()["id"] != second.json()["id"]
        again = _upload(
            client,
            auth,
            "報告書.txt",
            "すずかけ町の報告書\n\nすずかけ町は戸籍の証明書をコンビニで交付した。\n",
        )
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "unchanged"
        texts = {client.get(f"/articles/{r.json()['id']}").json()["text"] for r in (first, second)}
        assert len(texts) == 2
    finally:
        for response in (first, second):
            client.delete(f"/articles/{response.json()['id']}", headers=auth)


def test_json_posts_with_the_same_title_are_two_articles_and_a_url_replaces(client, auth):
    one = client.post(
        "/articles",
        json={"title": "お知らせ", "body": "はなぞの市は粗大ごみの予約をLINEで始めた。"},
        headers=auth,
    ).json()
    two = client.post(
        "/articles",
        json={"title": "お知らせ", "body": "はなぞの市は図書館の予約をLINEで始めた。"},
        headers=auth,
    ).json()
    url = "https://example.jp/hanazono/news/1"
    three = client.post(
        "/articles", json={"title": "お知らせ", "body": "第1版", "url": url}, headers=auth
    )
    four = client.post(
        "/articles", json={"title": "お知らせ（改訂）", "body": "第2版", "url": url}, headers=auth
    )
    try:
        assert one["id"] != two["id"] and one["status"] == two["status"] == "added"
        assert three.status_code == 201 and four.status_code == 200
        assert four.json()["id"] == three.json()["id"] and four.json()["status"] == "updated"
        assert client.get(f"/articles/{three.json()['id']}").json()["title"] == "お知らせ（改訂）"
    finally:
        for article in (one["id"], two["id"], three.json()["id"]):
            client.delete(f"/articles/{article}", headers=auth)


def test_put_replaces_an_article_explicitly_and_refuses_unknown_ids(client, auth, assert_error):
    added = client.post(
        "/articles",
        json={"title": "さくら台の案内", "body": "さくら台は住民票をオンラインで交付した。"},
        headers=auth,
    ).json()
    try:
        replaced = client.put(
            f"/articles/{added['id']}",
            headers=auth,
            files={
                "file": (
                    "案内.txt",
                    "さくら台の案内\n\nさくら台は印鑑登録をオンラインで受け付けた。\n".encode(),
                )
            },
        )
        assert replaced.status_code == 200 and replaced.json()["status"] == "updated", replaced.text
        assert replaced.json()["id"] == added["id"]
        article = client.get(f"/articles/{added['id']}").json()
        assert "印鑑登録" in article["text"] and "住民票" not in article["text"]
        assert_error(
            client.put(
                "/articles/0123456789abcdef", json={"title": "x", "body": "y"}, headers=auth
            ),
            404,
            "id",
        )
        assert_error(client.put(f"/articles/{added['id']}", json={"title": "x", "body": "y"}), 401)
    finally:
        client.delete(f"/articles/{added['id']}", headers=auth)
