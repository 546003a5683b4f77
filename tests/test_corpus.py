"""The mapped corpus: what the stages read (chunks, articles, filters, quotes) from the columns."""

from __future__ import annotations

import mmap
from datetime import UTC, datetime

from index.articles import Article
from index.chunking import chunk_text
from index.corpus import DiskCorpus, write_corpus
from qa.query import Filters
from tests.memory import is_mapped


def _day(d: int) -> datetime:
    return datetime(2020, 1, d, tzinfo=UTC)


ARTICLES = [
    Article(
        "b/2", "/s/b2", "Beta", _day(2), "Ann Lee", "http://b", "Bravo café. Ünïcode ok.", "h2"
    ),
    Article("a/1", "/s/a1", "Alpha", _day(5), "Bo Chu", "http://a", "Alpha one. Alpha two.", "h1"),
    Article("c/3", "/s/c3", "Gamma", None, "ann lee", "http://c", "Gamma text here. More.", "h3"),
]


def _corpus(tmp_path):
    chunks = [c for a in ARTICLES for c in chunk_text(a.id, a.text, max_chars=12)]
    write_corpus(tmp_path, ARTICLES, chunks)
    return DiskCorpus(tmp_path), chunks


def test_round_trip_by_row_and_by_id(tmp_path):
    corpus, chunks = _corpus(tmp_path)
    assert len(corpus) == len(chunks) and corpus.article_count == 3
    assert [corpus.chunk(r) for r in range(len(chunks))] == chunks
    for article in ARTICLES:
        assert corpus.article(article.id) == article
        rows = corpus.rows_of(article.id)
        assert [chunks[r].article_id for r in rows] == [article.id] * len(rows)
    assert corpus.article("nope") is None and corpus.rows_of("nope") is None


def test_columns_are_mapped_not_read(tmp_path):
    corpus, _ = _corpus(tmp_path)
    assert (
        isinstance(corpus.texts.blob, mmap.mmap)
        and is_mapped(corpus.spans)
        and is_mapped(corpus.texts.offsets)
    )


def test_filters_admit_the_same_rows_as_filters_admits(tmp_path):
    corpus, chunks = _corpus(tmp_path)
    for filters in (
        Filters(after=_day(3)),
        Filters(before=_day(3)),
        Filters(author="ANN LEE"),
        Filters(author="ann lee", after=_day(1)),
    ):
        expected = [r for r, c in enumerate(chunks) if filters.admits(corpus.article(c.article_id))]
        got = corpus.admitted(filters.after, filters.before, filters.author)
        assert got.tolist() == expected, filters


def test_locate_never_matches_across_two_articles(tmp_path):
    corpus, _ = _corpus(tmp_path)
    assert corpus.locate("Alpha two.") == "a/1" and corpus.locate("Ünïcode") == "b/2"
    assert corpus.locate("ok.Alpha") is None  # the end of one article + the start of the next
    assert corpus.locate("missing") is None


def test_newest_first_puts_undated_last(tmp_path):
    corpus, _ = _corpus(tmp_path)
    assert list(corpus.newest_first()) == ["a/1", "b/2", "c/3"]
    assert corpus.newest_first()[1:] == ["b/2", "c/3"]


def test_a_dropped_corpus_unmaps_at_once(tmp_path):
    import weakref

    corpus, _ = _corpus(tmp_path)
    corpus.article("a/1")  # fill the caches
    gone = weakref.ref(corpus)
    del corpus
    assert gone() is None  # no reference cycle: an old generation's files close without gc
