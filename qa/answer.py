"""An answer and its citations: the public JSON shape shared by `qa ask --json` and the API."""

from __future__ import annotations

from dataclasses import dataclass

from qa.explain import Explanation
from qa.text.snippets import Snippet
from qa.text.timeline import Period


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
    title_highlight: tuple[int, int] | None = None  # the answer quoted from the headline

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
            title_highlight=snippet.title_highlight,
        )

    @property
    def marked(self) -> str | None:
        """Return the answer words it marks: in the headline, else in the snippet (None: none)."""
        if self.title_highlight is not None:
            return self.title[self.title_highlight[0] : self.title_highlight[1]]
        if self.highlight is not None:
            return self.snippet[self.highlight[0] : self.highlight[1]]
        return None

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
            "title_highlight": list(self.title_highlight) if self.title_highlight else None,
        }


@dataclass(frozen=True)
class Exact:
    """The words that answer the question, copied from one citation (where it highlights them)."""

    text: str
    citation: int  # index into Answer.citations
    score: float | None  # the span reader's probability (None: found by the rules alone)
    date: str | None = None  # ISO day, month or year when the words are a date, grounded

    def to_json(self) -> dict:
        """Return the exact answer as plain JSON types."""
        score = None if self.score is None else round(self.score, 4)
        return {"text": self.text, "citation": self.citation, "score": score, "date": self.date}


@dataclass(frozen=True)
class Dated:
    """One value in an answer's timeline: verbatim words, the day first reported, the source."""

    text: str
    date: str  # ISO day of the earliest article that reports this value
    citation: int  # index into Answer.citations (its highlight marks these words)
    conflict: bool  # another outlet gave a different value at the same moment
    current: bool = False  # the value of the exact answer (the one shown first)

    def to_json(self) -> dict:
        """Return the value as plain JSON types."""
        return {
            "text": self.text,
            "date": self.date,
            "citation": self.citation,
            "conflict": self.conflict,
            "current": self.current,
        }


@dataclass(frozen=True)
class Answer:
    """An extractive answer: the best snippet's text and every citation, best first."""

    question: str
    answer: str | None
    citations: tuple[Citation, ...]
    message: str | None = None
    explanation: Explanation | None = None  # only when asked for (`qa ask --explain`)
    exact: Exact | None = None  # None when there is no answer
    timeline: tuple[Dated, ...] = ()  # distinct values, newest first (empty: fewer than two)
    period: Period | None = None  # the time the question names, as read on the day asked
    as_of: str | None = None  # the day the answer stands as of ("in 2019": 2019-12-31)

    def timeline_entry(self) -> Dated | None:
        """Return the timeline's entry for the exact answer's value, if there is one."""
        return next((d for d in self.timeline if d.current), None)

    def to_json(self) -> dict:
        """Return the public JSON shape shared by `qa ask --json` and POST /api/ask."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "exact": self.exact.to_json() if self.exact else None,
            "timeline": [d.to_json() for d in self.timeline] or None,
            "as_of": self.as_of,
            "period": self.period.to_json() if self.period else None,
        }
        if self.message:
            out["message"] = self.message
        if self.explanation:
            out["explain"] = self.explanation.to_json()
        return out
