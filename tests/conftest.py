"""Shared fixtures: a fast fake embedder, small real seed folders, the real model, the app."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
ALIYUN = "000_d202ff18b057221d.txt"
TINY = [
    ALIYUN,
    "Birdtospend150milliononEuropeanexpansionplan.txt",
    "BeyondTheBitcoinBubble.txt",
    "CruiseacquiresselfdrivingstartupVoyage.txt",
    "DailyCrunchStripevaluedat95B.txt",
]


class FakeEmbedder:
    """Hash each word to a fixed random direction; texts sharing words end up close."""

    name = "fake-hash-embedder"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_seen = 0

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def encode(self, texts) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i] += self._word(word)
            norm = np.linalg.norm(out[i])
            out[i] = (
                out[i] / norm
                if norm
                else self._word("<empty>") / np.linalg.norm(self._word("<empty>"))
            )
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_seeds(tmp_path: Path) -> Path:
    """A seeds folder holding five real articles from seeds/."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in TINY:
        shutil.copy(SEEDS / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2, loaded once for the whole run."""
    from index.embedder.runtime import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def default_index(tmp_path_factory, real_embedder) -> Path:
    """The default corpus (seeds/) indexed with the real model, built once per run."""
    from index.build import build

    index_dir = tmp_path_factory.mktemp("default-index")
    build(SEEDS, index_dir, real_embedder)
    return index_dir


@pytest.fixture(scope="session")
def reranker():
    """The packaged ms-marco-MiniLM-L-12-v2 cross-encoder (ONNX), loaded once for the run."""
    from qa.cross_encoder import CrossEncoder

    return CrossEncoder()


@pytest.fixture(scope="session")
def default_answerer(default_index, real_embedder, reranker):
    from qa.pipeline import Answerer

    return Answerer.open(default_index, real_embedder, reranker=reranker)


# --- the web app (tests/test_api.py, test_web_*.py, test_browser.py) ---


@pytest.fixture
def web_index(tiny_seeds, tmp_path, fake_embedder) -> Path:
    """An index of the five tiny seeds built with the fake embedder."""
    from index.build import build

    index_dir = tmp_path / "ix"
    build(tiny_seeds, index_dir, fake_embedder)
    return index_dir


@pytest.fixture
def app(web_index, tiny_seeds, fake_embedder):
    """The Flask app over web_index, rebuilding from tiny_seeds, admin token 'secret'."""
    from web import create_app

    config = {
        "TESTING": True,
        "RERANK": False,  # the cross-encoder is not the subject of web tests, and costs ~1 s/ask
        "READ": False,  # nor is the span reader
        "INDEX_DIR": str(web_index),
        "SEEDS_DIR": str(tiny_seeds),
        "ADMIN_TOKEN": "secret",
    }
    return create_app(config, embedder=fake_embedder)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def serve():
    """Start apps on real sockets (127.0.0.1, a free port) in threads; return their base URL."""
    import threading

    from werkzeug.serving import make_server

    servers = []

    def start(flask_app) -> str:
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A Milvus engine reached over TCP like a server (see tests/milvus_engine.py)."""
    pytest.importorskip("milvus_lite")
    from tests.milvus_engine import free_port, start

    port = free_port()
    server = start(tmp_path_factory.mktemp("milvus-server"), port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def engine(tmp_path):
    """A Milvus engine on a TCP port that a test may stop and start again on the same data."""
    pytest.importorskip("milvus_lite")
    from tests.milvus_engine import free_port, start

    port, folder = free_port(), tmp_path / "engine"
    folder.mkdir()
    running = {"server": start(folder, port)}

    def restart() -> None:
        running["server"] = start(folder, port)

    def stop() -> None:
        running["server"].stop()

    yield f"http://127.0.0.1:{port}", stop, restart
    running["server"].stop()


@pytest.fixture(params=["lite", "server"])
def milvus_env(request, monkeypatch) -> str:
    """Point Milvus builds at a Lite file per generation, or at the shared test server.

    Sets the environment for code that reads the settings (CLI, app); tests that call build()
    themselves take `milvus_backend`.
    """
    monkeypatch.setenv("NEWSQA_STORE", "milvus")
    monkeypatch.delenv("NEWSQA_MILVUS_COLLECTION", raising=False)  # one per index folder
    if request.param == "lite":
        monkeypatch.delenv("NEWSQA_MILVUS_URI", raising=False)
    else:
        monkeypatch.setenv("NEWSQA_MILVUS_URI", request.getfixturevalue("milvus_server"))
    return request.param


@pytest.fixture
def milvus_backend(milvus_env):
    """The Milvus backend that milvus_env's settings describe."""
    from index.settings import Settings
    from index.stores import store_backend

    return store_backend(Settings.from_env())


def pytest_collection_modifyitems(items):
    """Mark `slow` every test of the real models, the browser or a Milvus engine."""
    for item in items:
        if {"milvus_env", "milvus_server", "milvus_backend"} & set(item.fixturenames):
            item.add_marker(pytest.mark.milvus)
        if {"model", "browser", "milvus"} & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.slow)
