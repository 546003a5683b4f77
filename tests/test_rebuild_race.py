"""Two POST /api/rebuild at once: exactly one 202, and only its build writes the status."""

from __future__ import annotations

import json
import threading

import pytest

import index.build
from web import create_app

AUTH = {"Authorization": "Bearer secret"}


@pytest.fixture
def workers(web_index, tiny_seeds, fake_embedder):
    """Two apps over one index folder, like two gunicorn workers."""
    config = {
        "RERANK": False,
        "READ": False,
        "INDEX_DIR": str(web_index),
        "SEEDS_DIR": str(tiny_seeds),
        "ADMIN_TOKEN": "secret",
    }
    return [create_app(config, embedder=fake_embedder) for _ in range(2)]


@pytest.fixture
def slow_scan(monkeypatch):
    """Hold every build at its first steps (before it would take the lock itself)."""
    go, waiting = threading.Event(), threading.Event()
    scan = index.build.scan_seeds

    def held(seeds_dir):
        waiting.set()
        assert go.wait(30)
        return scan(seeds_dir)

    monkeypatch.setattr(index.build, "scan_seeds", held)
    return go, waiting


def test_two_rebuilds_at_once_one_202(workers, slow_scan, web_index, tiny_seeds):
    go, waiting = slow_scan
    (tiny_seeds / "zebra.txt").write_text(
        '{"title": "Zebras take over Oslo"}\n<p>A herd of 300 zebras took over Oslo.</p>\n'
    )
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def post(app) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/rebuild", headers=AUTH).status_code)

    threads = [threading.Thread(target=post, args=(app,)) for app in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [202, 409]
    assert waiting.wait(30)  # the winner's build is running, held before it takes any step
    first = json.loads((web_index / "rebuild.json").read_text())
    assert first["state"] == "running"
    for app in workers:  # either worker reports the winner's rebuild, not the loser's 409
        status = app.test_client().get("/api/rebuild", headers=AUTH).get_json()
        assert status["state"] == "running" and status["started"] == first["started"]
    go.set()
    for app in workers:
        app.extensions["newsqa.rebuilder"].wait(60)
    for app in workers:
        status = app.test_client().get("/api/rebuild", headers=AUTH).get_json()
        assert status["state"] == "done", status
        assert status["report"]["added"] == ["zebra"]
    # The lock went with the build: the next rebuild, from either worker, is accepted.
    assert workers[1].test_client().post("/api/rebuild", headers=AUTH).status_code == 202
    workers[1].extensions["newsqa.rebuilder"].wait(60)
    final = workers[0].test_client().get("/api/rebuild", headers=AUTH).get_json()
    assert final["state"] == "done" and final["report"]["unchanged"] == 6


def test_many_rebuild_requests_at_once_one_202(workers, slow_scan):
    go, _ = slow_scan
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def post(app) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/rebuild", headers=AUTH).status_code)

    threads = [threading.Thread(target=post, args=(workers[n % 2],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    go.set()
    for app in workers:
        app.extensions["newsqa.rebuilder"].wait(60)
    assert sorted(statuses) == [202] + [409] * 7
