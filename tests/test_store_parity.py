"""FAISS and Milvus, built from the same seeds, return the same chunks for the same query.

Every test runs twice (`milvus_env`): on a Milvus Lite file per generation, and on a Milvus
engine reached over TCP like a server (one shared collection).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from conftest import ALIYUN, SEEDS, FakeEmbedder

pytest.importorskip("milvus_lite")

from index.build import build  # noqa: E402
from index.store import load_index  # noqa: E402
from index.stores.faiss_store import FaissStore  # noqa: E402
from index.stores.milvus.backend import MilvusBackend, MilvusStore  # noqa: E402
from index.stores.milvus.mirror import MilvusVectors, sync_generation  # noqa: E402
from qa.pipeline import Answerer  # noqa: E402
from qa.query import Filters  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

pytestmark = [pytest.mark.milvus, pytest.mark.slow]  # each test starts a Milvus Lite engine

QUESTIONS = [
    "how much did Alibaba invest?",
    "Bird European expansion scooters",
    "Stripe valuation",
    "self-driving startup acquired by Cruise",
    "is Bitcoin a bubble?",
]
FILTERS = [
    Filters(),
    Filters(after=datetime(2020, 1, 1, tzinfo=UTC)),
    Filters(before=datetime(2013, 12, 31, tzinfo=UTC)),
    Filters(author="natasha lomas"),
]


def _build_both(seeds, tmp_path, embedder, backend):
    build(seeds, tmp_path / "faiss", embedder)
    build(seeds, tmp_path / "milvus", embedder, backend=backend)
    flat, milvus = load_index(tmp_path / "faiss"), load_index(tmp_path / "milvus", backend=backend)
    assert isinstance(flat.store, FaissStore) and isinstance(milvus.store, MilvusStore)
    assert milvus.meta["store"] == "milvus"
    return flat, milvus


def _same_results(flat, milvus, embedder):
    a, b = Answerer(flat, embedder, read=False), Answerer(milvus, embedder, read=False)
    for question in QUESTIONS:
        vector = Retriever(flat, embedder).embed(question)
        for f in FILTERS:
            scope = a.scope(f)
            got_a = [p.chunk.id for p in a.retriever.dense(vector, 10, scope)]
            got_b = [p.chunk.id for p in b.retriever.dense(vector, 10, scope)]
            assert got_a == got_b, (question, f)
            assert all(f.admits(flat.articles[c.split("#")[0]]) for c in got_a)
            answer_a = a.ask(question, filters=f, rerank=False).to_json()
            answer_b = b.ask(question, filters=f, rerank=False).to_json()
            assert answer_a == answer_b


def test_same_top_chunks_with_and_without_filters(
    tiny_seeds, tmp_path, fake_embedder, milvus_backend, milvus_env
):
    flat, milvus = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    _same_results(flat, milvus, fake_embedder)


def _chunks_of(index, article_id):
    return sum(c.article_id == article_id for c in index.chunks)


def test_same_after_incremental_rebuild(
    tiny_seeds, tmp_path, fake_embedder, milvus_backend, milvus_env
):
    _, before = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    shutil.copy(
        SEEDS / "BoredApesNFTstartupYugaLabsraisesseedroundatmonster4Bvaluation.txt", tiny_seeds
    )
    aliyun = tiny_seeds / ALIYUN
    aliyun.write_text(aliyun.read_text().replace("US$200 million", "US$250 million"))
    (tiny_seeds / "BeyondTheBitcoinBubble.txt").unlink()
    flat, milvus = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    assert set(flat.articles) == set(milvus.articles) and len(flat.articles) == 5
    # the Lite file started from the previous one: only the changed and the new article were
    # written, the old rows of the changed and the removed article deleted
    new = "BoredApesNFTstartupYugaLabsraisesseedroundatmonster4Bvaluation"
    aliyun_id, bubble = ALIYUN.removesuffix(".txt"), "BeyondTheBitcoinBubble"
    sync = milvus.meta["milvus"]
    assert sync["copied_previous"] is (milvus_env == "lite")  # a server keeps its collection
    assert sync["inserted"] == _chunks_of(milvus, new) + _chunks_of(milvus, aliyun_id)
    assert sync["deleted"] == _chunks_of(before, bubble) + _chunks_of(before, aliyun_id)
    _same_results(flat, milvus, fake_embedder)


@pytest.mark.parametrize("milvus_env", ["server"], indirect=True)
def test_a_shared_collection_keeps_serving_the_old_generation_during_a_rebuild(
    tiny_seeds, tmp_path, fake_embedder, milvus_backend, milvus_env
):
    flat, old = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    aliyun = tiny_seeds / ALIYUN
    aliyun.write_text(aliyun.read_text().replace("US$200 million", "US$250 million"))
    shutil.copy(SEEDS / "BeyondTheBitcoinBubble.txt", tiny_seeds / "bubble-copy-2.txt")
    # A build inserts the next generation's rows before it publishes: here they go in alone.
    build(tiny_seeds, tmp_path / "next", fake_embedder)
    upcoming = load_index(tmp_path / "next")
    record, stale = sync_generation(
        tmp_path / "milvus" / ".tmp-next",  # a generation being written in that index folder
        upcoming.articles,
        list(upcoming.chunks),
        upcoming.store.vectors(),
        upcoming.meta["model"],
        config=milvus_backend.config,
    )
    assert record["inserted"] > 0 and stale  # old Aliyun rows wait for the publish
    # the old generation still finds its own k best, though new near-twins crowd the top
    _same_results(flat, old, fake_embedder)
    flat, new = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    _same_results(flat, new, fake_embedder)
    shared = MilvusVectors(milvus_backend.config.reading(tmp_path, new.meta["milvus"]))
    assert len(shared.keys()) == len(new.chunks)  # after the publish, old rows are gone
    shared.close()


@pytest.mark.parametrize("milvus_env", ["server"], indirect=True)
def test_two_index_folders_on_one_server_keep_their_own_rows(
    tiny_seeds, tmp_path, fake_embedder, milvus_backend, milvus_env
):
    flat, milvus = _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    other_seeds = tmp_path / "other-seeds"
    other_seeds.mkdir()
    shutil.copy(SEEDS / "BeyondTheBitcoinBubble.txt", other_seeds)
    build(other_seeds, tmp_path / "other", fake_embedder, backend=milvus_backend)  # same server
    other = load_index(tmp_path / "other", backend=milvus_backend)
    assert other.meta["milvus"]["collection"] != milvus.meta["milvus"]["collection"]
    _same_results(flat, milvus, fake_embedder)  # the other build deleted none of these rows


class OtherModel(FakeEmbedder):
    """Same dimension, other vectors: what switching to another (e.g. int8) model does."""

    name = "other-fake-model"

    def _word(self, word: str):
        return super()._word(word + "#other")


def test_a_new_model_of_the_same_dimension_replaces_every_vector(
    tiny_seeds, tmp_path, fake_embedder, milvus_backend, milvus_env
):
    _build_both(tiny_seeds, tmp_path, fake_embedder, milvus_backend)
    other = OtherModel()
    flat, milvus = _build_both(tiny_seeds, tmp_path, other, milvus_backend)
    assert milvus.meta["model"] == other.name
    assert milvus.meta["milvus"]["deleted"] == len(milvus.chunks)  # no old vector survives
    _same_results(flat, milvus, other)


def test_switching_store_moves_vectors_without_re_embedding(
    tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    monkeypatch.delenv("NEWSQA_MILVUS_URI", raising=False)
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder, backend=MilvusBackend())
    assert report.generation is not None and fake_embedder.texts_seen == seen
    assert any("milvus store" in n for n in report.notes)
    assert load_index(tmp_path / "ix").meta["store"] == "milvus"


def test_unknown_store_is_a_clear_error():
    from index.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="NEWSQA_STORE"):
        Settings.from_env({"NEWSQA_STORE": "pinecone"})
