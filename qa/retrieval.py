"""Find the passages most likely to hold the answer: BM25 and dense search, fused by RRF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.embedder.runtime import Embedder
from index.store import Index
from index.stores.base import EVERYTHING, Scope

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


class Retriever:
    """Search one index two ways over the same rows: BM25 on terms, inner product on vectors."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def _passage(self, row: int, score: float) -> Passage:
        chunk = self.index.corpus.chunk(row)
        return Passage(chunk, self.index.corpus.article(chunk.article_id), score, row)

    def bm25(self, query: str, k: int, scope: Scope = EVERYTHING) -> list[Passage]:
        """Return up to k passages by BM25 score, only from the scope's rows."""
        if not len(self.index.corpus) or k < 1:
            return []
        return [self._passage(r, s) for r, s in self.index.lexical.search(query, k, scope)]

    def embed(self, query: str) -> np.ndarray:
        """Return the query's unit vector, shape (1, dim)."""
        return np.ascontiguousarray(self.embedder.encode([query]), dtype=np.float32)

    def dense(self, query: str | np.ndarray, k: int, scope: Scope = EVERYTHING) -> list[Passage]:
        """Return up to k passages by cosine similarity, only from the scope's rows."""
        vector = self.embed(query) if isinstance(query, str) else query
        return [self._passage(r, s) for r, s in self.index.store.search(vector, k, scope)]

    def similarity(self, vector: np.ndarray, row: int) -> float:
        """Return the cosine similarity of a query vector and one chunk."""
        hits = self.index.store.search(vector, 1, Scope(np.asarray([row], dtype=np.int64)))
        return hits[0][1] if hits else 0.0
