"""A replica whose Milvus goes away answers 503 store_unavailable, and recovers by itself."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("milvus_lite")


pytestmark = [pytest.mark.milvus, pytest.mark.slow]

QUESTION = {"question": "How much will Alibaba invest in Aliyun?"}


def _app(index_dir, tiny_seeds, fake_embedder, monkeypatch, uri):
    from web import create_app

    monkeypatch.setenv("NEWSQA_STORE", "milvus")
    monkeypatch.setenv("NEWSQA_MILVUS_URI", uri)
    config = {
        "TESTING": True,
        "RERANK": False,
        "READ": False,
        "INDEX_DIR": str(index_dir),
        "SEEDS_DIR": str(tiny_seeds),
        "RELOAD_INTERVAL": 0,
    }
    return create_app(config, embedder=fake_embedder).test_client()


def _until_answered(client, tries: int = 40, question: dict = QUESTION):
    """Ask until the replica answers (gRPC backs off reconnecting: a few seconds at most)."""
    for _ in range(tries):
        response = client.post("/api/ask", json=question)
        if response.status_code != 503:
            return response
        time.sleep(0.5)
    return response


def _build(tiny_seeds, index_dir, fake_embedder, uri):
    from index.build import build
    from index.stores.milvus.backend import MilvusBackend
    from index.stores.milvus.engine import MilvusConfig

    build(tiny_seeds, index_dir, fake_embedder, backend=MilvusBackend(MilvusConfig.of(uri)))


def test_a_serving_replica_answers_503_then_recovers(
    engine, tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    uri, stop, restart = engine
    _build(tiny_seeds, tmp_path / "ix", fake_embedder, uri)
    client = _app(tmp_path / "ix", tiny_seeds, fake_embedder, monkeypatch, uri)
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    stop()
    other = {"question": "Who founded Aliyun?"}  # not asked before: it needs the store
    down = client.post("/api/ask", json=other)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "store_unavailable"
    # An answer this generation already gave is kept (qa/answer_cache.py): still served.
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    restart()
    again = _until_answered(client, question=other)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["citations"]


def test_a_replica_started_while_milvus_is_down_loads_once_it_is_back(
    engine, tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    uri, stop, restart = engine
    _build(tiny_seeds, tmp_path / "ix", fake_embedder, uri)
    stop()
    client = _app(tmp_path / "ix", tiny_seeds, fake_embedder, monkeypatch, uri)
    down = client.post("/api/ask", json=QUESTION)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "store_unavailable"
    restart()
    again = _until_answered(client)
    assert again.status_code == 200 and again.get_json()["citations"]
