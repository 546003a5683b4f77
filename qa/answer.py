"""The answering pipeline (retrieve, read, cite) and the public JSON shape of an answer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from index.embedding import Embedder
from index.errors import IndexFormatError
from index.store import Index, load_index
from qa.dedup import distinct, near_copy, shingles
from qa.errors import BadQuestion, check_question
from qa.explain import Candidate, Explanation
from qa.followup import resolve
from qa.query import Filters, Turn
from qa.reading import Reader, Snippet
from qa.rerank import CrossEncoder
from qa.retrieval import Retriever, fuse
from qa.terms import document_frequencies, idf

MAX_K = 20
DEPTH = 50  # passages each retriever returns before fusion
CANDIDATES = 20  # fused passages read per question; more than k so reading can reorder them
MODES = ("hybrid", "bm25", "dense")
RERANK_WINDOWS = 16  # best distinct snippets the cross-encoder rescores
W_READER = 0.5  # share of the reader's own score kept next to the cross-encoder's logit
# The previous answer's article is preferred for a follow-up: a bonus on the reader's 0..1
# passage score, and in logits after reranking. Soft: a better passage elsewhere still wins.
FOLLOW_UP_BOOST = 0.5
FOLLOW_UP_LOGIT = 2.0
KIND_LOGIT = 1.0  # a snippet holding the kind of answer asked for (a date for "when") gains
# Below these the best citation is taken not to answer the question (calibrated by `qa eval`
# on squad-dev plus off-topic questions; see README): the cross-encoder's logit when
# reranking, else the cosine similarity of question and passage. A cosine means something
# only for the model it was calibrated with: other embedders never abstain without reranking.
ABSTAIN_LOGIT = 0.0
ABSTAIN_COSINE = {"all-MiniLM-L6-v2": 0.43}
NOT_COVERED = "The articles don't cover this question; the closest passages are listed."


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: a verbatim snippet and the article's metadata."""

    snippet: str
    title: str
    date: str | None
    author: str
    url: str
    score: float
    start: int
    end: int
    highlight: tuple[int, int] | None
    article_id: str
    chunk_id: str

    @classmethod
    def from_snippet(cls, snippet: Snippet) -> Citation:
        """Cite a snippet with the metadata of its article."""
        article = snippet.passage.article
        return cls(
            snippet=snippet.text,
            title=article.title,
            date=article.date.isoformat() if article.date else None,
            author=article.author,
            url=article.url,
            score=round(snippet.score, 4),
            start=snippet.start,
            end=snippet.end,
            highlight=snippet.highlight,
            article_id=article.id,
            chunk_id=snippet.passage.chunk.id,
        )

    def to_json(self) -> dict:
        """Return the citation in the public JSON shape."""
        return {
            "snippet": self.snippet,
            "title": self.title,
            "date": self.date,
            "author": self.author,
            "url": self.url,
            "score": self.score,
            "start": self.start,
            "end": self.end,
            "highlight": list(self.highlight) if self.highlight else None,
            "article_id": self.article_id,
            "chunk_id": self.chunk_id,
        }


@dataclass(frozen=True)
class Answer:
    """An extractive answer: the best snippet's text and every citation, best first."""

    question: str
    answer: str | None
    citations: tuple[Citation, ...]
    message: str | None = None
    explanation: Explanation | None = None  # only when asked for (`qa ask --explain`)

    def to_json(self) -> dict:
        """Return the public JSON shape shared by `qa ask --json` and POST /api/ask."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.message:
            out["message"] = self.message
        if self.explanation:
            out["explain"] = self.explanation.to_json()
        return out


class Answerer:
    """Owns an index, an embedder and (lazily) a reranker; answers questions from that index."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        *,
        rerank: bool = True,
        reranker: CrossEncoder | None = None,
    ) -> None:
        if index.meta.get("model") != embedder.name:
            raise IndexFormatError(
                f"index {index.path} was built with model {index.meta.get('model')!r}, "
                f"not {embedder.name!r}; rebuild it with: qa index --full"
            )
        self.index = index
        self.embedder = embedder
        self.retriever = Retriever(index, embedder)
        self.rerank = rerank  # the default for ask(); each call may override it
        if reranker is not None:  # share one loaded model between answerers (index reloads)
            self.__dict__["reranker"] = reranker

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder, **options) -> Answerer:
        """Load the live index at index_dir for this embedder's model."""
        return cls(load_index(index_dir), embedder, **options)

    @cached_property
    def reader(self) -> Reader:
        """The reader, weighting words by their rarity in this index."""
        if self.index.lexical is not None:
            df, n = self.index.lexical.document_frequencies()
        else:  # a generation saved before BM25 was: count them
            df, n = document_frequencies(c.text for c in self.index.chunks)
        return Reader(lambda term: idf(df, n, term))

    @cached_property
    def reranker(self) -> CrossEncoder:
        """The cross-encoder, loaded on first use (never for --no-rerank)."""
        return CrossEncoder()

    @cached_property
    def _rows_by_article(self) -> dict[str, np.ndarray]:
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.index.chunks):
            rows.setdefault(chunk.article_id, []).append(row)
        return {aid: np.asarray(r, dtype=np.int64) for aid, r in rows.items()}

    def admitted_rows(self, filters: Filters) -> np.ndarray | None:
        """Return the rows of chunks whose article passes the filters (None: no filter)."""
        if not filters:
            return None
        parts = [
            rows
            for aid, rows in self._rows_by_article.items()
            if filters.admits(self.index.articles[aid])
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def locate(self, answer: str) -> str | None:
        """Return the id of the article an earlier answer was copied from, if any."""
        answer = answer.strip()
        if not answer:
            return None
        return next((a.id for a in self.index.articles.values() if answer in a.text), None)

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        history: tuple[Turn, ...] = (),
        filters: Filters | None = None,
        mode: str = "hybrid",
        rerank: bool | None = None,
        explain: bool = False,
    ) -> Answer:
        """Answer a question with up to k citations, best first.

        mode picks the retrieval (hybrid, bm25 or dense); rerank (default: the answerer's
        setting) rescores the fused candidates with the cross-encoder.
        """
        question = check_question(question)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise BadQuestion(f"k must be an integer from 1 to {MAX_K}")
        if mode not in MODES:
            raise BadQuestion(f"mode must be one of {', '.join(MODES)}")
        rerank = self.rerank if rerank is None else rerank
        rows = self.admitted_rows(filters or Filters())
        if rows is not None and len(rows) == 0:
            return Answer(question, None, (), "No article matches the filters.")
        query = resolve(question, history, self.locate)

        # Filters narrow both searches before ranking: each returns its best admitted rows.
        bm25 = self.retriever.bm25(query.text, DEPTH, rows) if mode != "dense" else []
        vector = self.retriever.embed(query.text)  # for dense search and the confidence
        dense = self.retriever.dense(vector, DEPTH, rows, filters) if mode != "bm25" else []
        lists = [bm25, dense]
        if query.article_id in self._rows_by_article:
            own = self._rows_by_article[query.article_id]
            own = own if rows is None else np.intersect1d(own, rows)
            lists.append(self.retriever.bm25(query.text, DEPTH, own))  # the soft boost
        fused = fuse([r for r in lists if r])
        candidates = fused[:CANDIDATES]
        scores = [p.score for p in candidates]
        span = (max(scores) - min(scores)) if scores else 0.0
        scores = [
            s + FOLLOW_UP_BOOST * (span or 1.0) * (p.article.id == query.article_id)
            for s, p in zip(scores, candidates, strict=True)
        ]
        windows = list(
            distinct(
                self.reader.read(question, candidates, query=query.text, passage_scores=scores)
            )
        )
        if query.article_id and history[-1].answer:
            # A follow-up asks for something new: the answer already given goes last.
            given = shingles(history[-1].answer)
            windows.sort(key=lambda w: near_copy(shingles(w.text), given))
        logits = None
        if rerank and windows:
            # The cross-encoder judges the very snippets shown (title first, for context),
            # not whole chunks: cheaper, and it picks the sentence as well as the passage.
            windows = windows[:RERANK_WINDOWS]
            logits = self.reranker.score(
                query.text, [f"{w.passage.article.title}. {w.text}" for w in windows]
            )
            logits = [
                float(x)
                + FOLLOW_UP_LOGIT * (w.article_id == query.article_id)
                + KIND_LOGIT * self.reader.has_answer_kind(question, w)
                for x, w in zip(logits, windows, strict=True)
            ]
            windows = [
                replace(w, score=x + W_READER * w.score)
                for x, w in sorted(zip(logits, windows, strict=True), key=lambda p: -p[0])
            ]
            windows.sort(key=lambda w: -w.score)
            if query.article_id and history[-1].answer:
                windows.sort(key=lambda w: near_copy(shingles(w.text), given))
        citations = tuple(
            Citation.from_snippet(self.reader.mark(question, w, query.text)) for w in windows[:k]
        )
        if not citations:
            return Answer(question, None, (), "The articles don't cover this question.")
        if logits is not None:
            confidence, threshold = max(logits), ABSTAIN_LOGIT
        else:
            row = windows[0].passage.row
            confidence = float(vector[0] @ self.index.vectors.reconstruct(int(row)))
            threshold = ABSTAIN_COSINE.get(self.embedder.name)
        explanation = None
        if explain:
            explanation = Explanation(
                query=query.text,
                mode=mode + ("+rerank" if logits is not None else ""),
                bm25=tuple(Candidate.of(p) for p in bm25[:CANDIDATES]),
                dense=tuple(Candidate.of(p) for p in dense[:CANDIDATES]),
                fused=tuple(Candidate.of(p) for p in candidates),
                reranked=tuple(Candidate.of(w.passage, w.score) for w in windows)
                if logits is not None
                else (),
                confidence=confidence,
                threshold=threshold,
                boosted_article=query.article_id,
            )
        # A follow-up answered from the article of the previous answer stays on a topic the
        # articles cover: its lower scores come from the pointing words, not from the topic.
        on_topic = query.article_id is not None and citations[0].article_id == query.article_id
        if threshold is not None and confidence < threshold and not on_topic:
            return Answer(question, None, citations, NOT_COVERED, explanation)
        return Answer(question, citations[0].snippet, citations, None, explanation)
