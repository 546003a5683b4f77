"""The ONNX embedder computes the same vectors as the torch reference; backends are chosen by name."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import SEEDS

from index.embedder.runtime import (
    INT8_MODEL_NAME,
    MODEL_NAME,
    OnnxEmbedder,
    load_embedder,
    model_name,
)
from index.errors import IndexFormatError


def _varied_texts() -> list[str]:
    """Real article text of every length: sentences, chunks, whole articles far past 256 tokens."""
    from index.articles import read_article
    from index.chunking import chunk_text

    articles = [read_article(p, p.stem) for p in sorted(SEEDS.glob("*.txt"))[:12]]
    texts = ["", "OK", "42", "Who founded Stripe?", "ÜBER café naïve – “quotes” 日本語 🚀"]
    for article in articles:
        chunks = chunk_text(article.id, article.text)
        texts += [chunks[0].text, chunks[-1].text, article.title]
        texts.append(article.text)  # hundreds of words: cut at 256 tokens by both runtimes
    return texts


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _varied_texts()


@pytest.mark.model
def test_onnx_matches_torch(real_embedder, onnx_embedder, texts):
    long = [t for t in texts if len(t.split()) > 300]  # far past 256 word pieces
    assert len(long) >= 5  # the set really exercises truncation
    ref = real_embedder.encode(texts)
    got = onnx_embedder.encode(texts)
    assert got.shape == ref.shape == (len(texts), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * ref).sum(axis=1)
    assert cosine.min() >= 0.99, texts[int(cosine.argmin())][:80]
    assert onnx_embedder.name == real_embedder.name == MODEL_NAME


@pytest.mark.model
def test_onnx_cuts_at_256_tokens_like_the_reference(onnx_embedder, texts):
    long = max(texts, key=len)
    assert len(onnx_embedder._tokenizer.encode(long).ids) == 256
    more = long + " and then a great many further words that the model never sees" * 20
    assert np.allclose(onnx_embedder.encode([long]), onnx_embedder.encode([more]), atol=1e-6)


@pytest.mark.model
def test_onnx_rows_do_not_depend_on_the_batch(onnx_embedder, texts):
    alone = np.stack([onnx_embedder.encode([t])[0] for t in texts[:8]])
    assert np.allclose(onnx_embedder.encode(texts)[:8], alone, atol=1e-5)
    assert onnx_embedder.encode([]).shape == (0, 384)


@pytest.mark.model
def test_int8_is_close_but_named_apart(real_embedder, texts):
    int8 = load_embedder(backend="onnx-int8")
    cosine = (int8.encode(texts) * real_embedder.encode(texts)).sum(axis=1)
    assert cosine.mean() >= 0.98 and cosine.min() >= 0.9
    assert int8.name == INT8_MODEL_NAME != MODEL_NAME


@pytest.mark.model
def test_onnx_path_never_imports_torch(onnx_embedder):
    code = (
        "import sys\n"
        "from index.embedder.runtime import load_embedder\n"
        "v = load_embedder(backend='onnx', threads=1).encode(['Who founded Stripe?'])\n"
        "assert v.shape == (1, 384)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_backend_comes_from_the_settings():
    from index.settings import Settings, SettingsError

    assert Settings.from_env({}).embedder == "onnx" and model_name() == MODEL_NAME
    int8 = Settings.from_env({"NEWSQA_EMBEDDER": "onnx-int8"}).embedder
    assert model_name(int8) == INT8_MODEL_NAME
    with pytest.raises(SettingsError, match="torch"):
        Settings.from_env({"NEWSQA_EMBEDDER": "tensorflow"})


def test_unknown_model_or_mismatched_backend_is_refused():
    with pytest.raises(IndexFormatError, match="unknown embedding model"):
        load_embedder("bert-large")
    with pytest.raises(IndexFormatError, match="computes"):
        load_embedder(INT8_MODEL_NAME, backend="torch")
    with pytest.raises(ValueError, match="unknown embedder backend"):
        load_embedder(backend="gpu")


@pytest.mark.model
def test_an_int8_index_is_served_with_int8(monkeypatch, tiny_seeds, tmp_path):
    from index.build import build
    from index.store import load_index
    from web import create_app

    monkeypatch.setenv("NEWSQA_EMBEDDER", "onnx-int8")  # read by create_app's settings
    build(tiny_seeds, tmp_path / "ix", load_embedder(backend="onnx-int8"))
    assert load_index(tmp_path / "ix").meta["model"] == INT8_MODEL_NAME
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "RERANK": False})
    reply = app.test_client().post("/api/ask", json={"question": "how much did Alibaba invest?"})
    assert reply.status_code == 200, reply.get_json()
    # The int8 embedder finds the passage (the top answer is the reader's choice among the
    # cited windows: with the five tiny seeds the new reader prefers Bird's, a known regression).
    assert any("US$200 million" in c["snippet"] for c in reply.get_json()["citations"])
    empty = create_app({"INDEX_DIR": str(tmp_path / "none"), "RERANK": False}).test_client()
    assert empty.get("/healthz").get_json()["model"] == INT8_MODEL_NAME  # before any index
