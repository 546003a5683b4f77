"""Retrieval: RRF fusion, BM25 and dense search over the same rows, filters before ranking."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from index.build import build
from index.errors import IndexFormatError
from index.store import load_index
from index.stores.base import Scope
from index.stores.bm25 import Lexical, terms
from qa.pipeline import Answerer
from qa.query import Filters
from qa.retrieval import Passage, Retriever, fuse


def _p(row: int, score: float = 0.0) -> Passage:
    return Passage(chunk=None, article=None, score=score, row=row)  # type: ignore[arg-type]


def test_rrf_rewards_agreement_over_one_high_rank():
    bm25 = [_p(1), _p(2), _p(3)]
    dense = [_p(4), _p(2), _p(3)]
    fused = fuse([bm25, dense], c=60)
    assert [p.row for p in fused] == [2, 3, 1, 4]
    assert fused[0].score == pytest.approx(2 / 62)
    assert fused[2].score == pytest.approx(1 / 61)


def test_rrf_ties_break_by_row_and_one_list_keeps_its_order():
    assert [p.row for p in fuse([[_p(9), _p(5)], [_p(5), _p(9)]])] == [5, 9]
    assert [p.row for p in fuse([[_p(3), _p(1), _p(2)]])] == [3, 1, 2]
    assert fuse([]) == []


def test_terms_stem_and_drop_stop_words():
    assert terms("The investors were investing in the Investment") == [
        "investor",
        "invest",
        "invest",
    ]
    assert terms("what is it?") == []


def test_lexical_scores_round_trip(tmp_path):
    lexical = Lexical.build(["Alibaba invests in Aliyun", "Cruise buys Voyage", ""])
    scores = lexical.scores("how much did Alibaba invest?")
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert not lexical.scores("the of and").any()  # only stop words: no error, no match
    lexical.save(tmp_path / "bm25")
    again = Lexical.load(tmp_path / "bm25")
    assert len(again) == 3
    np.testing.assert_allclose(again.scores("Voyage"), lexical.scores("Voyage"))


@pytest.fixture
def fake_index(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    return load_index(tmp_path / "ix")


def test_generation_stores_bm25_with_the_same_rows(fake_index):
    assert fake_index.lexical is not None
    assert len(fake_index.lexical) == len(fake_index.chunks)
    assert (fake_index.path / fake_index.generation / "bm25").is_dir()
    retriever = Retriever(fake_index, None)
    top = retriever.bm25("Alibaba Aliyun US$200 million", 3)
    assert fake_index.chunks[top[0].row] == top[0].chunk
    assert top[0].article.id.startswith("000_")


def test_bm25_index_gives_the_readers_document_frequencies(fake_index):
    from qa.text.terms import document_frequencies

    counted = document_frequencies(c.text for c in fake_index.chunks)
    read_off = fake_index.lexical.document_frequencies()
    assert read_off == (dict(counted[0]), counted[1]) and counted[0]["alibaba"] > 1


def test_a_generation_without_bm25_is_refused_as_damaged(tiny_seeds, tmp_path, fake_embedder):
    import shutil

    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    index = load_index(tmp_path / "ix")
    shutil.rmtree(index.path / index.generation / "bm25")
    with pytest.raises(IndexFormatError, match="damaged"):
        load_index(tmp_path / "ix")
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder)  # rebuilt in full, said why
    assert report.generation and any("not reusable" in n for n in report.notes)
    assert len(load_index(tmp_path / "ix").lexical) == len(index.chunks)


def test_filter_rows_come_before_ranking(fake_index, fake_embedder):
    retriever = Retriever(fake_index, fake_embedder)
    rows = np.asarray(
        [r for r, c in enumerate(fake_index.chunks) if c.article_id.startswith("Bird")]
    )
    question = "how much did Alibaba invest into the Aliyun OS business expansion?"
    # Unfiltered, the best chunks are elsewhere; filtered, k of Bird's chunks still come back.
    assert not retriever.bm25(question, 1)[0].article.id.startswith("Bird")
    matching = int((fake_index.lexical.scores(question)[rows] > 0).sum())
    assert matching >= 3
    for hits in (
        retriever.bm25(question, 3, Scope(rows)),
        retriever.dense(question, 3, Scope(rows)),
    ):
        assert len(hits) == 3
        assert all(h.article.id.startswith("Bird") for h in hits)


def test_selective_filter_on_hnsw_still_returns_k():
    import faiss

    from index.stores.faiss_store import FaissStore

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    hnsw = faiss.IndexHNSWFlat(32, 8, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(vectors)
    rows = np.sort(rng.choice(3000, size=7, replace=False))
    hits = FaissStore(hnsw).search(vectors[:1], 5, Scope(rows))
    assert len(hits) == 5 and {r for r, _ in hits} <= set(rows.tolist())
    exact = sorted(rows.tolist(), key=lambda r: -float(vectors[r] @ vectors[0]))[:5]
    assert [r for r, _ in hits] == exact


def test_filtered_question_still_gets_k_citations(fake_index, fake_embedder):
    answerer = Answerer(fake_index, fake_embedder, rerank=False, read=False)
    author = fake_index.articles[
        next(a for a in fake_index.articles if a.startswith("Bird"))
    ].author
    own = sum(1 for c in fake_index.chunks if fake_index.articles[c.article_id].author == author)
    assert own >= 3
    answer = answerer.ask("how much did Alibaba invest?", k=3, filters=Filters(author=author))
    assert len(answer.citations) == 3
    assert {c.author for c in answer.citations} == {author}


def test_date_filters_admit_only_dated_articles_in_range(fake_index, fake_embedder):
    answerer = Answerer(fake_index, fake_embedder, rerank=False, read=False)
    after = datetime(2021, 1, 1, tzinfo=UTC)
    scope = answerer.scope(Filters(after=after))
    admitted = {fake_index.chunks[r].article_id for r in scope.rows}
    assert admitted and all(fake_index.articles[a].date >= after for a in admitted)
    assert scope.after == after and answerer.scope(Filters()).rows is None
    nothing = answerer.ask("anything", filters=Filters(before=datetime(1990, 1, 1, tzinfo=UTC)))
    assert nothing.answer is None and nothing.citations == () and "filters" in nothing.message
