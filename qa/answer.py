"""The answering pipeline (retrieve, read, cite) and the public JSON shape of an answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from index.embedding import Embedder
from index.errors import IndexFormatError
from index.store import Index, load_index
from qa.errors import BadQuestion, check_question
from qa.query import Filters, Turn
from qa.reading import Reader, Snippet
from qa.retrieval import Retriever
from qa.terms import document_frequencies, idf

MAX_K = 20
CANDIDATES = 20  # passages read per question; more than k so reading can reorder them


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

    def to_json(self) -> dict:
        """Return the public JSON shape shared by `qa ask --json` and POST /api/ask."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.message:
            out["message"] = self.message
        return out


class Answerer:
    """Owns an index and an embedder; answers questions from that index."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        if index.meta.get("model") != embedder.name:
            raise IndexFormatError(
                f"index {index.path} was built with model {index.meta.get('model')!r}, "
                f"not {embedder.name!r}; rebuild it with: qa index --full"
            )
        self.index = index
        self.embedder = embedder
        self.retriever = Retriever(index, embedder)

    @classmethod
    def open(cls, index_dir: Path, embedder: Embedder) -> Answerer:
        """Load the live index at index_dir for this embedder's model."""
        return cls(load_index(index_dir), embedder)

    @cached_property
    def reader(self) -> Reader:
        """The reader, weighting words by their rarity in this index."""
        df, n = document_frequencies(c.text for c in self.index.chunks)
        return Reader(lambda term: idf(df, n, term))

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        history: tuple[Turn, ...] = (),
        filters: Filters | None = None,
    ) -> Answer:
        """Answer a question with up to k citations, best first."""
        question = check_question(question)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise BadQuestion(f"k must be an integer from 1 to {MAX_K}")
        filters = filters or Filters()
        # TODO(issue 6): filter before ranking, use history for follow-ups.
        passages = [
            p
            for p in self.retriever.search(question, max(k, CANDIDATES) * (4 if filters else 1))
            if filters.admits(p.article)
        ]
        snippets = self.reader.read(question, passages)
        citations: list[Citation] = []
        seen: set[str] = set()
        for snippet in snippets:
            key = " ".join(snippet.text.split()).lower()
            if key not in seen:  # overlapping chunks yield the same sentence twice
                seen.add(key)
                citations.append(Citation.from_snippet(snippet))
            if len(citations) == k:
                break
        if not citations:
            return Answer(question, None, (), "The articles don't cover this question.")
        return Answer(question, citations[0].snippet, tuple(citations))
