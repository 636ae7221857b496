"""`POST /reindex` and `GET /jobs/{id}` on a real server: one job at a time, progress, result, refresh."""

from __future__ import annotations

import time

from indexer.stores.faiss import layout


def _wait(client, job_id: str, until: set[str], seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in until or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_reindex_runs_in_the_background_one_at_a_time(client, auth, api_index, assert_error):
    before = client.get("/health").json()
    lock = layout.acquire(
        layout.IndexDir(api_index), 5
    )  # hold the writer lock: the job must wait for it
    try:
        started = client.post("/reindex", headers=auth)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["kind"] == "reindex" and job["status"] in ("queued", "running")
        assert started.headers["location"] == f"/jobs/{job['id']}"
        deadline = time.monotonic() + 60
        while client.get(f"/jobs/{job['id']}").json()["progress"]["stage"] != "indexing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        running = client.get(f"/jobs/{job['id']}").json()
        assert running["status"] == "running" and 0 < running["progress"]["fraction"] < 1
        assert running["progress"]["stage_ja"]
        second = assert_error(client.post("/reindex", headers=auth), 409)
        assert second["code"] == "job_running" and job["id"] in second["en"]
        assert client.get("/search", params={"q": "窓口キャッシュレス", "k": 1}).status_code == 200
    finally:
        lock.release()
    done = _wait(client, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"stage": "done", "stage_ja": "完了", "fraction": 1.0}
    result = done["result"]
    assert result["articles"] == before["articles"] and result["generation"] > before["generation"]
    assert result["embedded_chunks"] == 0 and result["errors"] == []
    assert done["started"] and done["finished"]
    assert client.get("/health").json()["generation"] == result["generation"]
    again = client.post("/reindex", headers=auth)
    assert again.status_code == 202
    assert _wait(client, again.json()["id"], {"succeeded", "failed"})["status"] == "succeeded"


def test_a_failed_job_reports_the_error(client, auth, api_index):
    """The writer lock stays taken past the server's lock_timeout: the job fails with WriterBusy."""
    lock = layout.acquire(layout.IndexDir(api_index), 5)
    try:
        job = client.post("/reindex", headers=auth).json()
        done = _wait(client, job["id"], {"succeeded", "failed"}, seconds=60)
    finally:
        lock.release()
    assert done["status"] == "failed" and done["error"]["code"] == "WriterBusy"
    assert done["error"]["ja"] and done["error"]["en"] and done["result"] is None
    assert client.get("/health").status_code == 200


def test_unknown_job_and_missing_key(client, assert_error):
    assert_error(client.get("/jobs/0123456789abcdef"), 404, "id")
    assert_error(client.get("/jobs/..%2F..%2Fetc"), 404)
    assert_error(client.post("/reindex"), 401, "Authorization")
