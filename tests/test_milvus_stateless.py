"""Stateless replicas (issue #14): a process with no index folder answers from Milvus alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("milvus_lite")

from index.build import build  # noqa: E402
from index.store import load_index  # noqa: E402
from index.stores.milvus.backend import ReplicaBackend  # noqa: E402
from index.stores.milvus.replica import MilvusGenerations  # noqa: E402
from index.stores.milvus.rows import ReplicaConfig  # noqa: E402
from qa.pipeline import Answerer  # noqa: E402
from qa.query import Filters  # noqa: E402

pytestmark = [pytest.mark.milvus, pytest.mark.slow]

QUESTION = "How much will Alibaba invest in Aliyun?"


@pytest.fixture(params=["lite", "server"])
def replica_config(request, tmp_path) -> ReplicaConfig:
    """Where the replica rows go: a Lite file outside any index folder, or the test server."""
    if request.param == "lite":
        return ReplicaConfig(str(tmp_path / "rows.db"), prefix="t")
    server = request.getfixturevalue("milvus_server")
    return ReplicaConfig(server, prefix=f"t{abs(hash(str(tmp_path))) % 10**8}")


def _built(tiny_seeds, tmp_path, fake_embedder, config):
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder, backend=ReplicaBackend(config))
    return report, load_index(tmp_path / "ix")


def test_a_replica_without_the_folder_cites_like_the_folder(
    tiny_seeds, tmp_path, fake_embedder, replica_config
):
    _, local = _built(tiny_seeds, tmp_path, fake_embedder, replica_config)
    shutil.rmtree(tmp_path / "ix" / local.generation)  # the replica must not need it
    generations = MilvusGenerations(replica_config)
    index = generations.load()
    assert index.generation == generations.current() == "gen-000001"
    assert len(index.corpus) == local.meta["chunks"]
    assert index.corpus.article_count == local.meta["articles"]
    remote = Answerer(index, fake_embedder, rerank=False, read=False).ask(QUESTION)
    assert remote.citations and "Aliyun" in remote.citations[0].snippet
    assert remote.citations[0].url and remote.citations[0].title


def test_same_citations_as_local_mode(tiny_seeds, tmp_path, fake_embedder, replica_config):
    _, local = _built(tiny_seeds, tmp_path, fake_embedder, replica_config)
    index = MilvusGenerations(replica_config).load()
    questions = [
        QUESTION,
        "How much is Stripe valued at?",
        "Where will Bird expand?",
        "Who acquired Voyage?",
    ]
    for question in questions:
        near = Answerer(local, fake_embedder, rerank=False, read=False).ask(question, k=3)
        far = Answerer(index, fake_embedder, rerank=False, read=False).ask(question, k=3)
        top = [(c.title, c.start, c.end) for c in near.citations[:1]]
        assert top, question  # two empty answers would compare equal
        assert top == [(c.title, c.start, c.end) for c in far.citations[:1]], question


def test_filters_articles_and_locate(tiny_seeds, tmp_path, fake_embedder, replica_config):
    _, local = _built(tiny_seeds, tmp_path, fake_embedder, replica_config)
    index = MilvusGenerations(replica_config).load()
    some = next(iter(local.articles.values()))
    article = index.corpus.article(some.id)
    assert article == some  # every field, the whole text
    assert index.corpus.article("no/such") is None
    assert list(index.corpus.rows_of(some.id)) and index.corpus.rows_of("no/such") is None
    assert [index.corpus.chunk(r).text for r in index.corpus.rows_of(some.id)] == [
        local.corpus.chunk(r).text for r in local.corpus.rows_of(some.id)
    ]
    assert list(index.corpus.newest_first()) == list(local.corpus.newest_first())
    assert index.corpus.locate(some.text[100:160]) == some.id
    answerer = Answerer(index, fake_embedder, rerank=False, read=False)
    dated = [a for a in local.articles.values() if a.date]
    newest = max(dated, key=lambda a: a.date)
    only = answerer.ask(QUESTION, filters=Filters(after=newest.date))
    assert {c.title for c in only.citations} <= {newest.title}
    by = answerer.ask(QUESTION, filters=Filters(author=newest.author.upper()))
    assert by.citations and all(c.author == newest.author for c in by.citations)


def test_incremental_rebuild_inserts_only_the_changed_article(
    tiny_seeds, tmp_path, fake_embedder, replica_config
):
    first, local = _built(tiny_seeds, tmp_path, fake_embedder, replica_config)
    generations = MilvusGenerations(replica_config)
    before = generations.load()
    assert local.meta["replica"]["inserted"]["rows"] == first.chunks
    path = next(Path(tiny_seeds).glob("Bird*"))
    path.write_text(path.read_text(encoding="utf-8") + "\n\nBird adds scooters in Oslo.\n")
    (tiny_seeds / "extra.txt").write_text(
        "Quokka Labs raises money\n\nQuokka Labs raised ten million dollars on Monday.\n"
    )
    second, local = _built(tiny_seeds, tmp_path, fake_embedder, replica_config)
    rows = local.corpus
    changed = [a for a in local.articles.values() if a.path.endswith(("extra.txt", path.name))]
    expected = sum(len(rows.rows_of(a.id)) for a in changed)
    record = local.meta["replica"]
    assert record["inserted"]["rows"] == expected == second.embedded
    bird = next(a.id for a in changed if a.path.endswith(path.name))
    assert record["closed"]["rows"] == len(before.corpus.rows_of(bird))  # the old Bird text
    assert record["inserted"]["articles"] == len(changed)
    # The replica on the old generation still answers from exactly its rows until it follows.
    assert generations.current() == "gen-000002"
    assert len(before.corpus.admitted(None, None, None)) == len(before.corpus)
    after = generations.load()
    assert len(after.corpus) == second.chunks
    assert len(after.corpus.admitted(None, None, None)) == second.chunks
    hit = Answerer(after, fake_embedder, rerank=False, read=False).ask("Quokka Labs raised")
    assert hit.citations and hit.citations[0].title == "Quokka Labs raises money"


def test_an_unchanged_faiss_index_is_published_for_replicas(
    tiny_seeds, tmp_path, fake_embedder, replica_config
):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)  # plain FAISS: nothing in Milvus yet
    fake_embedder.texts_seen = 0
    report = build(
        tiny_seeds, tmp_path / "ix", fake_embedder, backend=ReplicaBackend(replica_config)
    )
    assert report.generation and fake_embedder.texts_seen == 0  # vectors reused
    assert "publishing" in " ".join(report.notes)
    assert len(MilvusGenerations(replica_config).load().corpus) == report.chunks
