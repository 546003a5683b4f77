"""A stateless replica behind the HTTP API: no index folder, hot switch, 503 and recovery."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("milvus_lite")

from index.build import build  # noqa: E402
from index.stores.milvus.backend import ReplicaBackend  # noqa: E402
from index.stores.milvus.rows import ReplicaConfig  # noqa: E402

pytestmark = [pytest.mark.milvus, pytest.mark.slow]

QUESTION = {"question": "How much will Alibaba invest in Aliyun?"}
QUOKKA = "Quokka Labs raises money\n\nQuokka Labs raised ten million dollars on Monday.\n"


def _replica(monkeypatch, uri: str, prefix: str, fake_embedder, tmp_path: Path):
    """Return a test client of an app that has no index folder: only Milvus."""
    from web import create_app

    monkeypatch.setenv("NEWSQA_STORE", "milvus")
    monkeypatch.setenv("NEWSQA_MILVUS_STATELESS", "1")
    monkeypatch.setenv("NEWSQA_MILVUS_URI", uri)
    monkeypatch.setenv("NEWSQA_MILVUS_COLLECTION", prefix)
    config = {
        "TESTING": True,
        "RERANK": False,
        "READ": False,
        "INDEX_DIR": str(tmp_path / "no-such-folder"),
        "RELOAD_INTERVAL": 0,
    }
    return create_app(config, embedder=fake_embedder).test_client()


def _build(seeds, tmp_path, fake_embedder, uri: str, prefix: str):
    config = ReplicaConfig(uri, prefix=prefix)
    return build(seeds, tmp_path / "build-machine", fake_embedder, backend=ReplicaBackend(config))


def _until(client, question: dict, tries: int = 40):
    """Ask until the replica answers (gRPC backs off reconnecting: a few seconds at most)."""
    for _ in range(tries):
        response = client.post("/api/ask", json=question)
        if response.status_code != 503:
            return response
        time.sleep(0.5)
    return response


def test_a_replica_answers_lists_and_follows_a_new_generation(
    milvus_server, tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    prefix = f"app{abs(hash(str(tmp_path))) % 10**8}"
    client = _replica(monkeypatch, milvus_server, prefix, fake_embedder, tmp_path)
    assert client.post("/api/ask", json=QUESTION).status_code == 503  # nothing built yet
    _build(tiny_seeds, tmp_path, fake_embedder, milvus_server, prefix)
    answer = client.post("/api/ask", json=QUESTION).get_json()
    assert answer["citations"] and "Aliyun" in answer["citations"][0]["snippet"]
    assert {"question", "answer", "citations", "exact"} <= set(answer)
    first = answer["citations"][0]
    assert {"snippet", "title", "date", "author", "url", "score", "start", "end"} <= set(first)
    listing = client.get("/api/articles?limit=100").get_json()
    assert listing["total"] == 5 and listing["generation"] == "gen-000001"
    one = client.get(f"/api/articles/{listing['articles'][0]['id']}").get_json()
    assert one["text"] and one["chunks"] == listing["articles"][0]["chunks"]
    cited = [a for a in listing["articles"] if a["title"] == first["title"]][0]
    text = client.get(f"/api/articles/{cited['id']}").get_json()["text"]
    assert text[first["start"] : first["end"]].strip()
    assert client.get("/api/articles/no/such").status_code == 404
    (tiny_seeds / "quokka.txt").write_text(QUOKKA)
    report = _build(tiny_seeds, tmp_path, fake_embedder, milvus_server, prefix)
    assert report.embedded == report.chunks - sum(a["chunks"] for a in listing["articles"])
    quokka = client.post("/api/ask", json={"question": "How much did Quokka Labs raise?"})
    assert quokka.get_json()["citations"][0]["title"] == "Quokka Labs raises money"
    health = client.get("/healthz").get_json()
    assert health["generation"] == "gen-000002" and health["articles"] == 6


def test_a_lite_replica_in_one_process_with_its_builds(
    tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    uri = str(tmp_path / "replica.db")
    client = _replica(monkeypatch, uri, "lite", fake_embedder, tmp_path)
    _build(tiny_seeds, tmp_path, fake_embedder, uri, "lite")
    answer = _until(client, QUESTION).get_json()
    assert answer["citations"] and "Aliyun" in answer["citations"][0]["snippet"]
    filtered = client.post(
        "/api/ask", json=QUESTION | {"filters": {"after": "2099-01-01"}}
    ).get_json()
    assert filtered["citations"] == []


def test_a_replica_answers_503_while_milvus_is_down_and_recovers(
    engine, tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    uri, stop, restart = engine
    _build(tiny_seeds, tmp_path, fake_embedder, uri, "rec")
    client = _replica(monkeypatch, uri, "rec", fake_embedder, tmp_path)
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    stop()
    down = client.post("/api/ask", json={"question": "Where will Bird expand in Europe?"})
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "store_unavailable"
    restart()
    again = _until(client, QUESTION)
    assert again.status_code == 200 and again.get_json()["citations"]


def test_a_replica_started_while_milvus_is_down_loads_once_it_is_back(
    engine, tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    uri, stop, restart = engine
    _build(tiny_seeds, tmp_path, fake_embedder, uri, "rec")
    stop()
    client = _replica(monkeypatch, uri, "rec", fake_embedder, tmp_path)
    down = client.post("/api/ask", json=QUESTION)
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "store_unavailable"
    restart()
    again = _until(client, QUESTION)
    assert again.status_code == 200 and again.get_json()["citations"]


def test_the_default_lite_file_serves_a_rebuild_through_the_api(
    tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    from web import create_app

    monkeypatch.setenv("NEWSQA_STORE", "milvus")
    monkeypatch.setenv("NEWSQA_MILVUS_STATELESS", "1")
    monkeypatch.delenv("NEWSQA_MILVUS_URI", raising=False)  # Lite: milvus-replica.db in ix/
    monkeypatch.delenv("NEWSQA_MILVUS_COLLECTION", raising=False)
    config = {"TESTING": True, "RERANK": False, "READ": False, "RELOAD_INTERVAL": 0,
              "INDEX_DIR": str(tmp_path / "ix"), "SEEDS_DIR": str(tiny_seeds),
              "ADMIN_TOKEN": "secret"}  # fmt: skip
    app = create_app(config, embedder=fake_embedder)
    client = app.test_client()
    assert client.post("/api/ask", json=QUESTION).status_code == 503
    auth = {"Authorization": "Bearer secret"}
    assert client.post("/api/rebuild", headers=auth).status_code == 202
    app.extensions["newsqa.rebuilder"].wait(120)
    assert (tmp_path / "ix" / "milvus-replica.db").is_file()
    answer = client.post("/api/ask", json=QUESTION).get_json()
    assert answer["citations"] and "Aliyun" in answer["citations"][0]["snippet"]
    assert client.get("/healthz").get_json()["generation"] == "gen-000001"
