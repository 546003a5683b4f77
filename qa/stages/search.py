"""Stage 1, search: candidate passages by BM25 and by dense vectors, fused by RRF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from index.stores.base import Scope
from qa.candidates import Candidates
from qa.retrieval import Passage, Retriever, fuse

DEPTH = 50  # passages each retriever returns before fusion
CANDIDATES = 20  # fused passages read per question; more than k so reading can reorder them
# Each list's first few are read even when fusion ranks them lower: RRF gives a passage found
# first by BM25 alone 1/61, less than one found 10th by both (2/70), and the one sentence
# that names the answer ("Alibaba CEO Jack Ma") is often such a passage.
EACH_LIST_FIRST = 3
# Passages from the period a question names ("this week") weigh this much more in fusion: a
# soft preference (a week's question may be answered by an older background article).
PERIOD_BOOST = 2.0


class Search:
    """Run the searches the request's mode asks for, within the filters' scope."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def __call__(self, c: Candidates) -> Candidates:
        """Fill in the BM25, dense and fused lists (and the query vector)."""
        text, mode = c.query.text, c.request.mode
        bm25 = self.retriever.bm25(text, DEPTH, c.scope) if mode != "dense" else []
        vector = self.retriever.embed(text)  # for dense search and the confidence
        dense = self.retriever.dense(vector, DEPTH, c.scope) if mode != "bm25" else []
        lists = [r for r in (bm25, dense, self._previous_article(c)) if r]
        fused = _prefer_period(fuse(lists), c)
        head = fused[:CANDIDATES]
        rows = {p.row for p in head}
        firsts = {p.row for r in lists for p in r[:EACH_LIST_FIRST]} - rows
        fused = head + [p for p in fused[CANDIDATES:] if p.row in firsts]
        return replace(c, vector=vector, bm25=tuple(bm25), dense=tuple(dense), fused=tuple(fused))

    def _previous_article(self, c: Candidates) -> list[Passage]:
        """Return a follow-up's BM25 list inside the previous answer's article (a soft boost)."""
        own = self.retriever.index.corpus.rows_of(c.follow_up.article_id or "")
        if own is None:
            return []
        if c.scope.rows is not None:
            own = np.intersect1d(own, c.scope.rows)
        return self.retriever.bm25(c.query.text, DEPTH, Scope(own))


def _prefer_period(fused: list[Passage], c: Candidates) -> list[Passage]:
    """Weigh up the passages of articles from the period the question names, if any."""
    period = c.period
    if period is None:
        return fused

    def weight(p: Passage) -> float:
        dated = p.article.date is not None and period.holds(p.article.date.date())
        return p.score * (PERIOD_BOOST if dated else 1.0)

    weighted = [replace(p, score=weight(p)) for p in fused]
    return sorted(weighted, key=lambda p: -p.score)
