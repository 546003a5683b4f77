"""Find the passages most likely to hold the answer: BM25 and dense search, fused by RRF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.embedding import Embedder
from index.lexical import Lexical
from index.store import Index
from qa.query import Filters

RRF_C = 60  # the constant of Cormack et al. (2009): damps the weight of the very top ranks


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article and its score under the method that found it."""

    chunk: Chunk
    article: Article
    score: float
    row: int = -1  # the chunk's row in the index (the id shared by FAISS and BM25)


def fuse(rankings: Sequence[Sequence[Passage]], c: int = RRF_C) -> list[Passage]:
    """Merge ranked lists by reciprocal-rank fusion: score = sum of 1 / (c + rank)."""
    scores: dict[int, float] = {}
    first: dict[int, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, 1):
            scores[passage.row] = scores.get(passage.row, 0.0) + 1.0 / (c + rank)
            first.setdefault(passage.row, passage)
    order = sorted(scores, key=lambda row: (-scores[row], row))
    return [replace(first[row], score=scores[row]) for row in order]


def _top(scores: np.ndarray, rows: np.ndarray | None, k: int) -> list[tuple[int, float]]:
    """Return the k best (row, score) pairs with a positive score, best first, ties by row."""
    if rows is not None:
        scores = scores[rows]
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    hits = hits[np.lexsort((hits, -scores[hits]))]
    ids = rows[hits] if rows is not None else hits
    return [(int(i), float(s)) for i, s in zip(ids, scores[hits], strict=True)]


class Retriever:
    """Search one index two ways over the same rows: BM25 on terms, inner product on vectors."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    @cached_property
    def lexical(self) -> Lexical:
        """The index's BM25, or one built in memory for a generation saved without it."""
        return self.index.lexical or Lexical.build([c.text for c in self.index.chunks])

    def _passage(self, row: int, score: float) -> Passage:
        chunk = self.index.chunks[row]
        return Passage(chunk, self.index.articles[chunk.article_id], score, row)

    def bm25(self, query: str, k: int, rows: np.ndarray | None = None) -> list[Passage]:
        """Return up to k passages by BM25 score, only from `rows` if given."""
        if not self.index.chunks or k < 1:
            return []
        return [self._passage(r, s) for r, s in _top(self.lexical.scores(query), rows, k)]

    def embed(self, query: str) -> np.ndarray:
        """Return the query's unit vector, shape (1, dim)."""
        return np.ascontiguousarray(self.embedder.encode([query]), dtype=np.float32)

    def dense(
        self,
        query: str | np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        filters: Filters | None = None,
    ) -> list[Passage]:
        """Return up to k passages by cosine similarity, only from `rows` if given.

        `rows` are the chunks admitted by `filters`; FAISS searches them through an id
        selector, Milvus evaluates the same filters itself as a filter expression.
        """
        total = len(self.index.chunks) if rows is None else len(rows)
        k = min(k, total)
        if k < 1:
            return []
        vector = self.embed(query) if isinstance(query, str) else query
        if self.index.milvus is not None:
            f = filters or Filters()
            hits = self.index.milvus.search(vector, k, f.after, f.before, f.author, rows)
        else:
            hits = _search(self.index.vectors, vector, k, rows)
        return [self._passage(r, s) for r, s in hits]


def _search(vectors, query: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
    """Run a FAISS search restricted to rows by an id selector (so filtering precedes ranking)."""
    import faiss

    params = None
    if rows is not None:
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
        if isinstance(vectors, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, 64))
        else:
            params = faiss.SearchParameters(sel=selector)
    scores, ids = vectors.search(query, k, params=params)
    hits = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
    if rows is not None and len(hits) < k:
        # An approximate index (HNSW) may miss admitted rows behind a selective filter: a
        # filtered query must still get k results, so score the admitted rows exactly.
        found = vectors.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))
        exact = found @ query[0]
        best = np.lexsort((rows, -exact))[:k]
        hits = [(int(rows[i]), float(exact[i])) for i in best]
    return hits
