"""The answering pipeline: search → selection → reranking → extraction → timing → decision.

Each stage (qa/stages/) is a small class taking and returning one `Candidates` value, and
follow-up questions are one policy (qa/followup.py) that the stages apply at named points.
`answerer_options` is the one place where Settings become an Answerer's options.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from index.embedder.runtime import Embedder
from index.errors import IndexFormatError
from index.settings import Settings
from index.store import Index, load_index
from index.stores.base import EVERYTHING, Scope, StoreBackend
from qa.answer import Answer
from qa.answer_cache import ANSWERS, AnswerCache
from qa.candidates import Candidates
from qa.cross_encoder import CrossEncoder
from qa.followup import FollowUp, resolve
from qa.query import Filters, Request, Turn
from qa.retrieval import Retriever
from qa.stages.decision import Decision
from qa.stages.extraction import Extraction, SpanReading
from qa.stages.reranking import Reranking
from qa.stages.search import Search
from qa.stages.selection import Selection
from qa.stages.timing import Timing
from qa.text.kinds import answer_kind
from qa.text.snippets import SnippetScorer
from qa.text.terms import idf
from qa.text.timeline import question_period

IDF_CACHE = 65_536  # terms whose weight a worker remembers (~100 bytes each)


def answerer_options(settings: Settings) -> dict:
    """Return the Answerer options that the settings decide (CLI, app, eval alike)."""
    return {
        "rerank": settings.rerank,
        "read": settings.read,
        "reranker_dir": settings.reranker_dir,
        "threads": settings.threads,
    }


class Answerer:
    """Own an index, an embedder and (lazily) a reranker; answer questions from that index."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        *,
        rerank: bool = True,
        reranker: CrossEncoder | None = None,
        reranker_dir: Path | None = None,
        span_reader: SpanReading | None = None,
        reader_dir: Path | None = None,
        read: bool = True,
        threads: int = 0,
        answers: int = ANSWERS,
    ) -> None:
        if index.meta.get("model") != embedder.name:
            raise IndexFormatError(
                f"index {index.path} was built with model {index.meta.get('model')!r}, "
                f"not {embedder.name!r}; rebuild it with: qa index --full"
            )
        self.index = index
        self.embedder = embedder
        self.rerank = rerank  # the defaults for ask(); each call may override them
        self.read = read
        df, n = index.lexical.document_frequencies()  # words weigh by their rarity here
        # df is read off the mapped BM25 columns per term: remember the weights looked up.
        self.scorer = SnippetScorer(lru_cache(maxsize=IDF_CACHE)(lambda term: idf(df, n, term)))
        self.retriever = Retriever(index, embedder)
        self.search = Search(self.retriever)
        self.selection = Selection(self.scorer)
        self.reranking = Reranking(self.scorer, reranker, folder=reranker_dir, threads=threads)
        self.extraction = Extraction(answer_kind, span_reader, folder=reader_dir, threads=threads)
        self.timing = Timing(self.extraction)
        self.decision = Decision(self.scorer, self.retriever)
        self.stages = (self.search, self.selection, self.reranking, self.extraction, self.timing)
        self.answers = AnswerCache(answers)  # this generation's answers, by request and day

    @classmethod
    def open(
        cls, index_dir: Path, embedder: Embedder, backend: StoreBackend | None = None, **options
    ) -> Answerer:
        """Load the live index at index_dir (its store opened with `backend`'s credentials)."""
        return cls(load_index(index_dir, backend=backend), embedder, **options)

    @property
    def reranker(self) -> CrossEncoder:
        """Return the cross-encoder (loaded on first use; shared by a reloaded index)."""
        return self.reranking.cross_encoder

    def scope(self, filters: Filters) -> Scope:
        """Return the rows of chunks whose article passes the filters."""
        if not filters:
            return EVERYTHING
        rows = self.index.corpus.admitted(filters.after, filters.before, filters.author)
        return Scope(rows, filters.after, filters.before, filters.author)

    def locate(self, answer: str) -> str | None:
        """Return the id of the article an earlier answer was copied from, if any."""
        answer = answer.strip()
        if not answer:
            return None
        return self.index.corpus.locate(answer)

    def candidates(self, request: Request) -> Candidates:
        """Return what is known before searching: the query resolved, the scope, the period."""
        query = resolve(request.question, request.history, self.locate)
        scope = self.scope(request.seen())  # no rows at all: decision says no article matches
        follow_up = FollowUp.of(query, request.history)
        period = question_period(request.question, request.day)
        return Candidates(request, query, follow_up, scope, period=period)

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        history: tuple[Turn, ...] = (),
        filters: Filters | None = None,
        mode: str = "hybrid",
        rerank: bool | None = None,
        read: bool | None = None,
        explain: bool = False,
        now: date | str | None = None,
    ) -> Answer:
        """Answer a question with up to k citations, best first (options: see Request)."""
        request = Request.check(
            question,
            k,
            history=tuple(history),
            filters=filters,
            mode=mode,
            rerank=self.rerank if rerank is None else rerank,
            read=self.read if read is None else read,
            explain=explain,
            now=now,
        )
        return self.answers.get(request) or self.answer(request)

    def answer(self, request: Request) -> Answer:
        """Run the request through the stages and decide (then keep the answer for repeats)."""
        c = self.candidates(request)
        for stage in self.stages:
            c = stage(c)
        answer = self.decision(c)
        self.answers.put(request, answer)
        return answer
