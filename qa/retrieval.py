"""Find the passages most likely to hold the answer: dense search over the chunk vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.embedding import Embedder
from index.store import Index


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article and its retrieval score (cosine similarity)."""

    chunk: Chunk
    article: Article
    score: float


class Retriever:
    """Dense retrieval: embed the question, take the nearest chunks by inner product."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def search(self, question: str, k: int) -> list[Passage]:
        """Return up to k passages, best first."""
        if not self.index.chunks:
            return []
        query = self.embedder.encode([question])
        scores, rows = self.index.vectors.search(
            np.ascontiguousarray(query), min(k, len(self.index.chunks))
        )
        passages = []
        for score, row in zip(scores[0], rows[0], strict=True):
            if row < 0:
                continue
            chunk = self.index.chunks[row]
            passages.append(Passage(chunk, self.index.articles[chunk.article_id], float(score)))
        return passages
