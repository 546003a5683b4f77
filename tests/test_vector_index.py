"""The vector index kind follows the size; IVF keeps answers, filters and rebuild reuse working."""

from __future__ import annotations

from dataclasses import replace

import faiss
import numpy as np
import pytest
from conftest import ALIYUN

import index.stores.faiss_store as store
from index.build import build
from index.store import load_index
from index.stores.faiss_store import FaissStore, make_vector_index, vector_index_kind
from tests.memory import is_mapped

QUESTIONS = [
    "how much did Alibaba invest?",
    "Which company did Cruise acquire?",
    "How much will Bird spend on its European expansion?",
    "What is Stripe valued at?",
    "Who is the CEO of Tesla?",
    "what happened to bitcoin prices",
]


def make_vector_index_flat(vectors: np.ndarray) -> faiss.Index:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat


def _unit(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def one_thread():
    """Build IVF lists single-threaded, so k-means and answers are the same run to run."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def test_kind_follows_the_threshold(monkeypatch):
    monkeypatch.setattr(store, "IVF_THRESHOLD", 5000)
    small, large = make_vector_index(_unit(4999)), make_vector_index(_unit(5000))
    assert vector_index_kind(small) == "flat" and isinstance(small, faiss.IndexFlatIP)
    assert vector_index_kind(large) == "ivf" and large.nprobe == store.IVF_NPROBE
    assert make_vector_index(np.zeros((0, 64), np.float32)).ntotal == 0


def test_ivf_is_mapped_and_reconstructs_exactly(monkeypatch, tmp_path):
    monkeypatch.setattr(store, "IVF_THRESHOLD", 10)
    vectors = _unit(3000)
    store.FaissBackend().write(tmp_path, {}, [], vectors, "m", None)
    loaded = store.FaissStore.read(tmp_path)
    assert vector_index_kind(loaded.index) == "ivf" and loaded.index.nprobe == store.IVF_NPROBE
    assert is_mapped(loaded.vectors()) and np.array_equal(loaded.vectors(), vectors)
    assert np.array_equal(loaded.index.reconstruct_n(0, 3000), vectors)
    assert loaded.search(vectors[:1], 1)[0][0] == 0


def test_search_breadth_grows_with_the_index():
    assert store.ivf_search_breadth(store.ivf_lists(20_000)) == store.IVF_NPROBE == 64
    assert store.ivf_lists(1_000_000) == 4000
    assert store.ivf_search_breadth(store.ivf_lists(50_000_000)) == store.IVF_NPROBE_MAX


def test_load_sets_the_search_breadth_of_the_code(monkeypatch, tiny_seeds, tmp_path, fake_embedder):
    monkeypatch.setattr(store, "IVF_THRESHOLD", 1)
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    monkeypatch.setattr(store, "IVF_NPROBE", 40)  # tuned after the build: no rebuild needed
    assert load_index(tmp_path / "ix").store.index.nprobe == 40


@pytest.mark.parametrize("mapped", [False, True])
def test_ivf_store_honours_a_scope_and_still_returns_k(monkeypatch, mapped):
    monkeypatch.setattr(store, "IVF_THRESHOLD", 10)
    vectors = _unit(2000)
    index = make_vector_index(vectors)
    ivf = store.FaissStore(index, vectors if mapped else None)
    admitted = np.arange(0, 2000, 5, dtype=np.int64)
    for q in range(20):
        hits = ivf.search(vectors[q : q + 1], 10, store.Scope(admitted))
        assert len(hits) == 10 and np.isin([r for r, _ in hits], admitted).all()
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # The lists probed hold too few of 7 admitted rows: the store scores them exactly.
    few = np.sort(np.random.default_rng(1).choice(2000, size=7, replace=False))
    hits = ivf.search(vectors[:1], 5, store.Scope(few))
    assert [r for r, _ in hits] == few[np.argsort(-(vectors[few] @ vectors[0]))[:5]].tolist()


def test_incremental_rebuild_reuses_ivf_vectors(monkeypatch, tiny_seeds, tmp_path, fake_embedder):
    monkeypatch.setattr(store, "IVF_THRESHOLD", 1)
    ix = tmp_path / "ix"
    build(tiny_seeds, ix, fake_embedder)
    before = load_index(ix)
    assert before.meta["vector_index"] == "ivf" and vector_index_kind(before.store.index) == "ivf"
    old = dict(zip((c.id for c in before.chunks), before.store.vectors(), strict=True))

    aliyun = ALIYUN.removesuffix(".txt")
    path = tiny_seeds / ALIYUN
    path.write_text(path.read_text().replace("US$200 million", "US$300 million"))
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, ix, fake_embedder)
    after = load_index(ix)
    assert vector_index_kind(after.store.index) == "ivf" and report.updated == (aliyun,)
    fresh = sum(1 for c in after.chunks if c.article_id == aliyun)
    assert report.embedded == fresh == fake_embedder.texts_seen - seen  # only the changed one
    vectors = after.store.vectors()
    kept = [r for r, c in enumerate(after.chunks) if c.article_id != aliyun]
    assert kept and all(np.array_equal(vectors[r], old[after.chunks[r].id]) for r in kept)
    # Every row is still the vector of its own chunk's text, as a full rebuild would make it.
    assert np.allclose(vectors, fake_embedder.encode([c.text for c in after.chunks]), atol=1e-6)


@pytest.mark.model
def test_ivf_finds_the_same_chunks_as_exact_search(
    default_answerer, real_embedder, one_thread, monkeypatch
):
    index = default_answerer.index
    assert index.meta["vector_index"] == "flat"  # the default corpus is below threshold
    monkeypatch.setattr(store, "IVF_THRESHOLD", 0)
    ivf = make_vector_index(index.store.vectors())
    assert vector_index_kind(ivf) == "ivf"
    queries = real_embedder.encode(QUESTIONS)
    _, exact = make_vector_index_flat(index.store.vectors()).search(queries, 10)
    _, approx = ivf.search(queries, 10)
    for q, e, a in zip(QUESTIONS, exact, approx, strict=True):
        assert list(a[:5]) == list(e[:5]), q  # the passages the reader sees first
        assert len(set(a) & set(e)) >= 9, q  # recall@10 of at least 0.9 on every question


@pytest.mark.model
def test_ivf_index_gives_the_same_answers(default_answerer, real_embedder, one_thread, monkeypatch):
    from qa.pipeline import Answerer

    index = default_answerer.index
    monkeypatch.setattr(store, "IVF_THRESHOLD", 0)
    switched = Answerer(
        replace(index, store=FaissStore(make_vector_index(index.store.vectors()))), real_embedder
    )
    assert vector_index_kind(switched.index.store.index) == "ivf"
    for question in QUESTIONS[:3]:
        exact, approx = default_answerer.ask(question), switched.ask(question)
        assert approx.to_json()["citations"] == exact.to_json()["citations"], question
