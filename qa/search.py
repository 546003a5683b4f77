"""Stage 1, search: candidate passages by BM25 and by dense vectors, fused by RRF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.candidates import Candidates
from qa.retrieval import Passage, Retriever, fuse

DEPTH = 50  # passages each retriever returns before fusion
CANDIDATES = 20  # fused passages read per question; more than k so reading can reorder them


class Search:
    """Run the searches the request's mode asks for, within the filters' scope."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def __call__(self, c: Candidates) -> Candidates:
        """Fill in the BM25, dense and fused lists (and the query vector)."""
        text, mode = c.query.text, c.request.mode
        bm25 = self.retriever.bm25(text, DEPTH, c.scope.rows) if mode != "dense" else []
        vector = self.retriever.embed(text)  # for dense search and the confidence
        dense = self.retriever.dense(vector, DEPTH, c.scope) if mode != "bm25" else []
        lists = [bm25, dense, self._previous_article(c)]
        fused = fuse([r for r in lists if r])[:CANDIDATES]
        return replace(c, vector=vector, bm25=tuple(bm25), dense=tuple(dense), fused=tuple(fused))

    def _previous_article(self, c: Candidates) -> list[Passage]:
        """Return a follow-up's BM25 list inside the previous answer's article (a soft boost)."""
        own = self.retriever.index.rows_by_article.get(c.follow_up.article_id or "")
        if own is None:
            return []
        if c.scope.rows is not None:
            own = np.intersect1d(own, c.scope.rows)
        return self.retriever.bm25(c.query.text, DEPTH, own)
