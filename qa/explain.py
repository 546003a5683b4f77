"""What `qa ask --explain` adds: the query searched and every ranked list behind an answer."""

from __future__ import annotations

from dataclasses import dataclass

from qa.candidates import Candidates
from qa.retrieval import Passage
from qa.stages.search import CANDIDATES


@dataclass(frozen=True)
class Candidate:
    """One passage in one of the ranked lists behind an answer (for --explain)."""

    chunk_id: str
    title: str
    score: float

    @classmethod
    def of(cls, passage: Passage, score: float | None = None) -> Candidate:
        """Describe a passage with its score (by default the one it was retrieved with)."""
        value = passage.score if score is None else score
        return cls(passage.chunk.id, passage.article.title, round(float(value), 4))

    def to_json(self) -> dict:
        """Return the candidate as plain JSON types."""
        return {"chunk_id": self.chunk_id, "title": self.title, "score": self.score}


@dataclass(frozen=True)
class Explanation:
    """How an answer was found: the query searched and every ranked list, best first."""

    query: str
    mode: str
    bm25: tuple[Candidate, ...]
    dense: tuple[Candidate, ...]
    fused: tuple[Candidate, ...]
    reranked: tuple[Candidate, ...]
    confidence: float
    threshold: float | None  # None: no calibrated threshold for this model, never abstains
    boosted_article: str | None = None

    def to_json(self) -> dict:
        """Return the explanation as plain JSON types."""
        return {
            "query": self.query,
            "mode": self.mode,
            "bm25": [c.to_json() for c in self.bm25],
            "dense": [c.to_json() for c in self.dense],
            "fused": [c.to_json() for c in self.fused],
            "reranked": [c.to_json() for c in self.reranked],
            "confidence": round(self.confidence, 4),
            "threshold": self.threshold,
            "boosted_article": self.boosted_article,
        }


def explain(c: Candidates, confidence: float, threshold: float | None) -> Explanation:
    """Describe how the pipeline reached its answer, from the candidates it ended with."""
    return Explanation(
        query=c.query.text,
        mode=c.request.mode + ("+rerank" if c.reranked else ""),
        bm25=tuple(Candidate.of(p) for p in c.bm25[:CANDIDATES]),
        dense=tuple(Candidate.of(p) for p in c.dense[:CANDIDATES]),
        fused=tuple(Candidate.of(p) for p in c.fused),
        reranked=tuple(Candidate.of(w.passage, w.score) for w in c.windows) if c.reranked else (),
        confidence=confidence,
        threshold=threshold,
        boosted_article=c.query.article_id,
    )
