"""Saving and loading index generations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.articles import Article
from index.chunking import chunk_text
from index.errors import IndexFormatError, IndexNotFound
from index.store import FORMAT_VERSION, current_generation, load_index, save_index


def _sample(n_articles: int = 2):
    articles, chunks = [], []
    for i in range(n_articles):
        text = f"Article {i} starts here. It has a second sentence. And a third one."
        articles.append(
            Article(f"a{i}", f"/x/a{i}.txt", f"T{i}", None, "Au", f"http://x/{i}", text, f"h{i}")
        )
        chunks.extend(chunk_text(f"a{i}", text, max_chars=30))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(chunks), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return articles, chunks, vectors


def test_round_trip(tmp_path):
    articles, chunks, vectors = _sample()
    name = save_index(tmp_path, articles, chunks, vectors, "m")
    index = load_index(tmp_path, "m")
    assert index.generation == name == current_generation(tmp_path)
    assert list(index.articles.values()) == articles
    assert list(index.chunks) == chunks
    np.testing.assert_allclose(index.store.vectors(), vectors, rtol=1e-6)
    assert (
        index.meta["format"] == FORMAT_VERSION == 3
        and index.meta["model"] == "m"
        and index.meta["dim"] == 8
    )
    assert index.meta["articles"] == 2 and index.meta["chunks"] == len(chunks)


def test_new_generation_replaces_old(tmp_path):
    articles, chunks, vectors = _sample()
    first = save_index(tmp_path, articles, chunks, vectors, "m")
    second = save_index(tmp_path, articles[:1], chunks[:3], vectors[:3], "m")
    assert second != first and current_generation(tmp_path) == second
    assert not (tmp_path / first).exists()  # removed after the switch
    assert len(load_index(tmp_path).chunks) == 3


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFound, match="qa index"):
        load_index(tmp_path / "nowhere")


def test_format_version_mismatch(tmp_path):
    articles, chunks, vectors = _sample()
    name = save_index(tmp_path, articles, chunks, vectors, "m")
    meta_path = tmp_path / name / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexFormatError, match="format 99"):
        load_index(tmp_path)


def test_model_mismatch(tmp_path):
    articles, chunks, vectors = _sample()
    save_index(tmp_path, articles, chunks, vectors, "model-a")
    with pytest.raises(IndexFormatError, match="model-a"):
        load_index(tmp_path, "model-b")


def test_damaged_generation(tmp_path):
    articles, chunks, vectors = _sample()
    name = save_index(tmp_path, articles, chunks, vectors, "m")
    (tmp_path / name / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexFormatError, match="damaged"):
        load_index(tmp_path)


def test_litter_of_a_crashed_build_is_ignored_then_cleaned(tmp_path):
    articles, chunks, vectors = _sample()
    save_index(tmp_path, articles, chunks, vectors, "m")
    (tmp_path / ".tmp-gen-000009-123").mkdir()  # what a killed build leaves
    assert len(load_index(tmp_path).chunks) == len(chunks)
    save_index(tmp_path, articles, chunks, vectors, "m")
    assert not (tmp_path / ".tmp-gen-000009-123").exists()
