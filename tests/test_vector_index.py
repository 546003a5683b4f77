"""The vector index kind follows the size; HNSW keeps answers, filters and rebuild reuse working."""

from __future__ import annotations

from dataclasses import replace

import faiss
import numpy as np
import pytest
from conftest import ALIYUN

import index.vector_store as store
from index.build import build
from index.store import load_index
from index.vector_store import FaissStore, make_vector_index, vector_index_kind

QUESTIONS = [
    "how much did Alibaba invest?",
    "Which company did Cruise acquire?",
    "How much will Bird spend on its European expansion?",
    "What is Stripe valued at?",
    "Who is the CEO of Tesla?",
    "what happened to bitcoin prices",
]


def _unit(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def one_thread():
    """Build HNSW graphs single-threaded: parallel inserts make the graph differ run to run."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def test_kind_follows_the_threshold(monkeypatch):
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 500)
    small, large = make_vector_index(_unit(499)), make_vector_index(_unit(500))
    assert vector_index_kind(small) == "flat" and isinstance(small, faiss.IndexFlatIP)
    assert vector_index_kind(large) == "hnsw" and large.hnsw.efSearch == store.HNSW_EF_SEARCH
    assert make_vector_index(np.zeros((0, 64), np.float32)).ntotal == 0


def test_hnsw_reconstructs_exactly_and_survives_a_round_trip(monkeypatch, tmp_path):
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 10)
    vectors = _unit(300)
    faiss.write_index(make_vector_index(vectors), str(tmp_path / "v.faiss"))
    loaded = faiss.read_index(str(tmp_path / "v.faiss"))
    assert vector_index_kind(loaded) == "hnsw" and loaded.hnsw.efSearch == store.HNSW_EF_SEARCH
    assert np.array_equal(loaded.reconstruct_n(0, loaded.ntotal), vectors)


def test_search_breadth_grows_with_the_index():
    assert store.hnsw_search_breadth(20_000) == store.HNSW_EF_SEARCH == 128
    assert store.hnsw_search_breadth(1_000_000) == 1000
    assert store.hnsw_search_breadth(50_000_000) == store.HNSW_EF_SEARCH_MAX


def test_load_sets_the_search_breadth_of_the_code(monkeypatch, tiny_seeds, tmp_path, fake_embedder):
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 1)
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    monkeypatch.setattr(store, "HNSW_EF_SEARCH", 200)  # tuned after the build: no rebuild needed
    assert load_index(tmp_path / "ix").store.index.hnsw.efSearch == 200


@pytest.mark.parametrize("params", [faiss.SearchParameters, faiss.SearchParametersHNSW])
def test_hnsw_honours_an_id_selector(monkeypatch, params):
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 10)
    vectors = _unit(2000)
    index = make_vector_index(vectors)
    admitted = np.arange(0, 2000, 5, dtype=np.int64)
    sel = faiss.IDSelectorBatch(admitted)
    _, rows = index.search(vectors[:20], 10, params=params(sel=sel))
    assert (rows >= 0).all() and np.isin(rows, admitted).all()
    exact = np.argsort(-(vectors[:20] @ vectors[admitted].T), axis=1)[:, :10]
    recall = np.mean(
        [len(set(r) & set(admitted[e])) / 10 for r, e in zip(rows, exact, strict=True)]
    )
    assert recall >= 0.9


def test_incremental_rebuild_reuses_hnsw_vectors(monkeypatch, tiny_seeds, tmp_path, fake_embedder):
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 1)
    ix = tmp_path / "ix"
    build(tiny_seeds, ix, fake_embedder)
    before = load_index(ix)
    assert before.meta["vector_index"] == "hnsw" and vector_index_kind(before.store.index) == "hnsw"
    old = dict(zip((c.id for c in before.chunks), before.store.vectors(), strict=True))

    aliyun = ALIYUN.removesuffix(".txt")
    path = tiny_seeds / ALIYUN
    path.write_text(path.read_text().replace("US$200 million", "US$300 million"))
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, ix, fake_embedder)
    after = load_index(ix)
    assert vector_index_kind(after.store.index) == "hnsw" and report.updated == (aliyun,)
    fresh = sum(1 for c in after.chunks if c.article_id == aliyun)
    assert report.embedded == fresh == fake_embedder.texts_seen - seen  # only the changed one
    vectors = after.store.vectors()
    kept = [r for r, c in enumerate(after.chunks) if c.article_id != aliyun]
    assert kept and all(np.array_equal(vectors[r], old[after.chunks[r].id]) for r in kept)
    # Every row is still the vector of its own chunk's text, as a full rebuild would make it.
    assert np.allclose(vectors, fake_embedder.encode([c.text for c in after.chunks]), atol=1e-6)


@pytest.mark.model
def test_hnsw_finds_the_same_chunks_as_exact_search(
    default_answerer, real_embedder, one_thread, monkeypatch
):
    index = default_answerer.index
    assert vector_index_kind(index.store.index) == "flat"  # the default corpus is below threshold
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 0)
    hnsw = make_vector_index(index.store.vectors())
    assert vector_index_kind(hnsw) == "hnsw"
    queries = real_embedder.encode(QUESTIONS)
    _, exact = index.store.index.search(queries, 10)
    _, approx = hnsw.search(queries, 10)
    for q, e, a in zip(QUESTIONS, exact, approx, strict=True):
        assert list(a[:5]) == list(e[:5]), q  # the passages the reader sees first
        assert len(set(a) & set(e)) >= 9, q  # recall@10 of at least 0.9 on every question


@pytest.mark.model
def test_hnsw_index_gives_the_same_answers(
    default_answerer, real_embedder, one_thread, monkeypatch
):
    from qa.pipeline import Answerer

    index = default_answerer.index
    monkeypatch.setattr(store, "HNSW_THRESHOLD", 0)
    switched = Answerer(
        replace(index, store=FaissStore(make_vector_index(index.store.vectors()))), real_embedder
    )
    assert vector_index_kind(switched.index.store.index) == "hnsw"
    for question in QUESTIONS[:3]:
        exact, approx = default_answerer.ask(question), switched.ask(question)
        assert approx.to_json()["citations"] == exact.to_json()["citations"], question
