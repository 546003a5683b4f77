"""The server follows the index: new generations are picked up between requests, live."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from urllib.error import HTTPError

import pytest

from index.build import build
from tests.conftest import FakeEmbedder
from web import create_app
from web.live_index import LiveIndex

ZEBRA = (
    '{"title": "Zebras take over Oslo", "date": "2024-05-01", "author": "Ann Lee"}\n'
    "<p>A herd of 300 zebras took over the streets of Oslo on Tuesday morning.</p>\n"
)


def _top_ids(answer) -> list[str]:
    return [c.article_id for c in answer.citations]


@pytest.mark.slow
def test_swaps_generation_at_most_once_per_interval(web_index, tiny_seeds, fake_embedder):
    now = [0.0]
    made = []

    def factory():
        made.append(1)
        return fake_embedder

    live = LiveIndex(
        web_index, factory, model=fake_embedder.name, interval=1.0, clock=lambda: now[0]
    )
    first = live.snapshot()
    (tiny_seeds / "zebra.txt").write_text(ZEBRA)
    build(tiny_seeds, web_index, FakeEmbedder())  # another process: `qa index`
    now[0] = 0.5
    assert live.snapshot() is first  # not looked at `current` yet
    now[0] = 1.0
    second = live.snapshot()
    assert second.index.generation != first.index.generation
    assert "zebra" in second.index.articles and "zebra" not in first.index.articles
    # A request that took the old snapshot finishes on it; new requests see the new article.
    assert "zebra" not in _top_ids(first.answerer.ask("zebras in Oslo", 5))
    assert _top_ids(second.answerer.ask("zebras in Oslo", 5))[0] == "zebra"
    # The models are loaded once per process, not per generation.
    assert len(made) == 1 and second.answerer.embedder is first.answerer.embedder
    assert second.answerer.reranker is first.answerer.reranker


def test_a_broken_generation_keeps_the_old_one_serving(web_index, tiny_seeds, fake_embedder):
    live = LiveIndex(
        web_index,
        lambda: fake_embedder,
        model=fake_embedder.name,
        interval=0,
        options={"rerank": False},
    )
    first = live.snapshot()
    (tiny_seeds / "zebra.txt").write_text(ZEBRA)
    name = build(tiny_seeds, web_index, FakeEmbedder()).generation
    (web_index / name / "corpus" / "chunk_spans.npy").write_text("not an array\n")
    assert live.snapshot() is first
    # Once a good generation is published it is picked up.
    (tiny_seeds / "zebra.txt").write_text(ZEBRA.replace("300", "400"))
    build(tiny_seeds, web_index, FakeEmbedder())
    assert "400 zebras" in live.snapshot().index.articles["zebra"].text


def _post(url: str, payload: dict | None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def _get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_live_rebuild_with_zero_failed_requests(web_index, tiny_seeds, fake_embedder, serve):
    """Questions keep coming while POST /api/rebuild adds an article; none of them fails."""
    config = {
        "RERANK": False,
        "READ": False,
        "INDEX_DIR": str(web_index),
        "SEEDS_DIR": str(tiny_seeds),
        "ADMIN_TOKEN": "secret",
        "RELOAD_INTERVAL": 0.2,
    }
    base = serve(create_app(config, embedder=fake_embedder))
    auth = {"Authorization": "Bearer secret"}
    outcomes: list[tuple[float, float, int, str | None]] = []  # (sent, answered, status, top)
    stop = threading.Event()

    def ask_forever() -> None:
        for _ in range(20_000):  # bounded, whatever happens
            if stop.is_set():
                return
            sent = time.monotonic()
            try:
                status, body = _post(f"{base}/api/ask", {"question": "zebras in Oslo"})
            except OSError as err:  # a refused or dropped connection counts as a failure
                outcomes.append((sent, time.monotonic(), 0, repr(err)))
                continue
            top = body["citations"][0]["article_id"] if status == 200 else None
            outcomes.append((sent, time.monotonic(), status, top))

    askers = [threading.Thread(target=ask_forever) for _ in range(3)]
    for t in askers:
        t.start()
    try:
        _, before = _get(f"{base}/healthz")
        deadline = time.monotonic() + 30
        while len(outcomes) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        (tiny_seeds / "zebra.txt").write_text(ZEBRA)
        status, started = _post(f"{base}/api/rebuild", None, auth)
        assert status == 202, started
        deadline = time.monotonic() + 60
        state = started
        while state["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            state = _get(f"{base}/api/rebuild", auth)[1]
        assert state["state"] == "done", state
        assert state["report"]["added"] == ["zebra"]
        switched = len(outcomes)
        deadline = time.monotonic() + 30
        while len(outcomes) < switched + 30 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in askers:
            t.join(60)
    _, after = _get(f"{base}/healthz")
    assert after["generation"] == state["report"]["generation"] != before["generation"]
    assert after["articles"] == before["articles"] + 1
    failures = [o for o in outcomes if o[2] != 200]
    assert not failures, failures[:5]
    outcomes.sort()
    assert outcomes[0][3] != "zebra"  # before the rebuild the article did not exist
    assert outcomes[-1][3] == "zebra"  # after the switch the new article answers
    # Once one answer came from the new generation, every request sent later is answered
    # from it too (requests already in flight may still finish on the old one).
    switched_at = min(answered for _, answered, _, top in outcomes if top == "zebra")
    later = [top for sent, _, _, top in outcomes if sent > switched_at]
    assert later and all(top == "zebra" for top in later)
    assert len(outcomes) >= 50, len(outcomes)


def test_index_appears_under_a_running_server(tmp_path, tiny_seeds, fake_embedder, serve):
    index_dir = tmp_path / "later"
    base = serve(
        create_app(
            {"RERANK": False, "READ": False, "INDEX_DIR": str(index_dir)}, embedder=fake_embedder
        )
    )
    status, body = _post(f"{base}/api/ask", {"question": "Bird European expansion"})
    assert status == 503 and body["error"]["code"] == "index_unavailable"
    built = tmp_path / "built"
    build(tiny_seeds, built, FakeEmbedder())
    shutil.copytree(built, index_dir)
    deadline = time.monotonic() + 10
    while status == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
        status, body = _post(f"{base}/api/ask", {"question": "Bird European expansion"})
    assert status == 200 and body["answer"]
