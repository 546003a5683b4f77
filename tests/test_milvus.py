"""The Milvus vector store on Milvus Lite: sync as a diff, exact search, filters in Milvus."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

pytest.importorskip("milvus_lite")

from index.articles import Article  # noqa: E402
from index.chunking import Chunk  # noqa: E402
from index.milvus import MilvusConfig, MilvusVectors, filter_expression, quote, row_key  # noqa: E402


def _corpus(n: int = 8, per: int = 4, dim: int = 16, seed: int = 0):
    articles = {
        f"a{i}": Article(
            f"a{i}", f"/s/a{i}.txt", f"T{i}",
            datetime(2010 + i, 6, 1, tzinfo=UTC) if i else None,
            "Jane Doe" if i % 2 else 'O"Brien \\ Co', f"http://x/{i}", "text", f"hash{i}",
        )
        for i in range(n)
    }
    chunks = [Chunk(f"a{i}#{j}", f"a{i}", "t", 0, 1) for i in range(n) for j in range(per)]
    vectors = np.random.default_rng(seed).standard_normal((len(chunks), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return articles, chunks, vectors


@pytest.fixture
def store(tmp_path):
    vectors = MilvusVectors(MilvusConfig(str(tmp_path / "m.db")))
    yield vectors
    vectors.close()


def test_exact_search_matches_brute_force(store):
    articles, chunks, vectors = _corpus()
    assert store.sync(articles, chunks, vectors) == (len(chunks), 0)
    keys = {row_key(c, articles[c.article_id]): i for i, c in enumerate(chunks)}
    for q in range(0, len(chunks), 5):
        got = [keys[key] for key, _ in store.search(vectors[q], 5)]
        assert got == list(np.argsort(-(vectors @ vectors[q]), kind="stable")[:5])


def test_sync_is_a_diff(store):
    articles, chunks, vectors = _corpus()
    store.sync(articles, chunks, vectors)
    assert store.sync(articles, chunks, vectors) == (0, 0)  # unchanged: nothing written
    # a2 changes (new hash), a3 is removed
    articles["a2"] = Article(**{**articles["a2"].__dict__, "content_hash": "new"})
    keep = [i for i, c in enumerate(chunks) if c.article_id != "a3"]
    del articles["a3"]
    inserted, deleted = store.sync(articles, [chunks[i] for i in keep], vectors[keep])
    assert (inserted, deleted) == (4, 8)
    assert len(store.keys()) == len(keep)


def test_filters_run_inside_milvus(store):
    articles, chunks, vectors = _corpus()
    store.sync(articles, chunks, vectors)
    keys = {row_key(c, articles[c.article_id]): c.article_id for c in chunks}
    after = datetime(2013, 1, 1, tzinfo=UTC)
    hits = store.search(vectors[0], 100, filter_expression(after=after, author="JANE DOE"))
    assert {keys[k] for k, _ in hits} == {"a3", "a5", "a7"}
    hits = store.search(vectors[0], 100, filter_expression(before=after))
    assert {keys[k] for k, _ in hits} == {"a1", "a2"}  # a0 is undated: a date bound excludes it
    hits = store.search(vectors[0], 100, filter_expression(author='o"brien \\ co'))
    assert {keys[k] for k, _ in hits} == {"a0", "a2", "a4", "a6"}


def test_quote_escapes_and_folds_newlines():
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c d"'
