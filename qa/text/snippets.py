"""Read retrieved passages: score their sentences, cut a verbatim snippet, mark the answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from index.chunking import split_sentences
from qa.retrieval import Passage
from qa.text.kinds import answer_kind
from qa.text.spans import best_span, find_spans
from qa.text.terms import terms

MAX_SNIPPET = 400
SENTENCE_CACHE = 2048  # articles whose sentence offsets are kept
# Weights of a sentence's score: the passage's (normalised) retrieval score, the share of the
# question's weighted terms in the sentence, in the sentence and its neighbours, and whether
# the sentence holds a span of the kind the question asks for (a date for "when"...).
# W_PASSAGE 0.75, not 1.0: a sentence naming the question's terms ("Alibaba CEO Jack Ma") in
# a lower-ranked passage must reach the 12 snippets the cross-encoder rescores
# (qa/stages/reranking.py).
W_PASSAGE, W_SENTENCE, W_CONTEXT, W_KIND = 0.75, 1.0, 0.25, 0.3
W_NEIGHBOUR = 0.1  # a neighbour gives context (to a reader and the reranker): prefer pairs
# A sentence opening with one of these leans on the one before it ("It was founded in...").
_LEANS_BACK = re.compile(
    r"^[\"'“‘(]?(?:It|Its|He|His|She|Her|They|Their|This|That|These|Those|The company|"
    r"The firm|But|However|Also|And|So|Still|Instead)\b"
)


@dataclass(frozen=True)
class Snippet:
    """A verbatim piece of an article chosen to answer a question."""

    passage: Passage
    start: int  # offsets into the article text
    end: int
    score: float
    highlight: tuple[int, int] | None  # relative to the snippet
    title_highlight: tuple[int, int] | None = None  # answer words in the headline instead

    @property
    def text(self) -> str:
        """Return the snippet's text, copied from the article."""
        return self.passage.article.text[self.start : self.end]

    @property
    def article_id(self) -> str:
        """Return the id of the article the snippet is copied from."""
        return self.passage.article.id


def overlap(
    question_terms: set[str], text_terms: set[str], weight: Callable[[str], float]
) -> float:
    """Return the weighted share of the question's terms found in a text (0..1)."""
    total = sum(weight(t) for t in question_terms)
    return sum(weight(t) for t in question_terms & text_terms) / total if total else 0.0


def fit(text: str, start: int, end: int, focus: tuple[int, int] | None) -> tuple[int, int]:
    """Shrink [start, end) to at most MAX_SNIPPET characters around focus, on word boundaries."""
    if end - start <= MAX_SNIPPET:
        return start, end
    centre = (focus[0] + focus[1]) // 2 if focus else start
    lo = max(start, min(centre - MAX_SNIPPET // 2, end - MAX_SNIPPET))
    hi = lo + MAX_SNIPPET
    if lo > start:
        space = text.find(" ", lo, hi)
        lo = space + 1 if space != -1 else lo
    if hi < end:
        space = text.rfind(" ", lo, hi)
        hi = space if space > lo else hi
    return lo, hi


def normalise(scores: Sequence[float]) -> list[float]:
    """Map passage scores onto 0..1 by min-max, so weights mean the same for every retriever."""
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    return [(s - lo) / (hi - lo) if hi > lo else 1.0 for s in scores]


class SnippetScorer:
    """Pick, inside each passage, the sentence that best answers the question."""

    def __init__(self, weight: Callable[[str], float]) -> None:
        self.weight = weight  # a term's importance, e.g. its idf in the corpus
        # Questions keep reading the same articles (a chat, a news story of the day): their
        # sentences are split once (5 ms an answer), keyed by the text itself.
        self.sentences = lru_cache(maxsize=SENTENCE_CACHE)(split_sentences)

    def snippets(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        query: str | None = None,
        passage_scores: Sequence[float] | None = None,
    ) -> list[Snippet]:
        """Return candidate snippets (one or two sentences) of every passage, best first.

        `question` decides the answer kind and the highlight; `query` (the question with terms
        carried over from a chat, by default the question) decides which sentences match.
        `passage_scores` (default: the passages' own) are normalised to 0..1 first. Windows
        overlap one another: pass the result through qa.text.dedup.distinct before showing it.
        """
        q_terms = set(terms(query or question))
        kind = answer_kind(question)
        weights = normalise(passage_scores or [p.score for p in passages])
        windows: list[tuple[float, int, Passage, int, int]] = []
        for n, (passage, weight) in enumerate(zip(passages, weights, strict=True)):
            sentences = self.sentences(passage.article.text)
            for score, start, end in self._windows(question, q_terms, kind, passage, sentences):
                windows.append((W_PASSAGE * weight + score, n, passage, start, end))
        windows.sort(key=lambda w: (-w[0], w[1], w[3]))
        return [self._snippet(question, kind, p, a, b, score) for score, _, p, a, b in windows]

    def _windows(
        self,
        question: str,
        q_terms: set[str],
        kind: str | None,
        passage: Passage,
        spans: list[tuple[int, int]],
    ) -> list[tuple[float, int, int]]:
        """Score each sentence of the passage alone and with each neighbour in its paragraph."""
        chunk, text = passage.chunk, passage.article.text
        inside = [i for i, (s, e) in enumerate(spans) if chunk.start <= s and e <= chunk.end]
        if not inside:
            return []
        lo, hi = max(0, inside[0] - 1), min(len(spans), inside[-1] + 2)
        bags = {i: set(terms(text[spans[i][0] : spans[i][1]])) for i in range(lo, hi)}
        kinds = {
            i: bool(find_spans(text[slice(*spans[i])], kind, question, exact=True)) for i in bags
        }
        out = []
        for i in inside:
            for a, b in ((i, i), (i - 1, i), (i, i + 1)):
                if a not in bags or b not in bags:
                    continue
                start, end = spans[a][0], spans[b][1]
                if b > a and (end - start > MAX_SNIPPET or "\n\n" in text[start:end]):
                    continue  # a neighbour only from the same paragraph, within the limit
                words = bags[a] | bags[b]
                near = words.union(bags.get(a - 1, ()), bags.get(b + 1, ()))
                score = (
                    W_SENTENCE * overlap(q_terms, words, self.weight)
                    + W_CONTEXT * overlap(q_terms, near, self.weight)
                    + (W_KIND if kinds[a] or kinds[b] else 0.0)
                    + W_NEIGHBOUR * (b - a)
                )
                if b > a and _LEANS_BACK.match(text[spans[b][0] : spans[b][1]]):
                    score += W_NEIGHBOUR  # "It has a height of 617 ft": needs the sentence before
                out.append((score, start, end))
        return out

    def _snippet(
        self, question: str, kind: str | None, passage: Passage, start: int, end: int, score: float
    ) -> Snippet:
        """Cut a window longer than MAX_SNIPPET around its answer span (unmarked: see mark)."""
        if end - start > MAX_SNIPPET:
            text = passage.article.text
            found = best_span(text[start:end], kind, question)
            focus = (start + found[0], start + found[1]) if found else None
            start, end = fit(text, start, end, focus)
        return Snippet(passage, start, end, score, None)

    def has_answer_kind(self, question: str, snippet: Snippet) -> bool:
        """Return whether the snippet holds a span of the kind the question asks for."""
        return bool(find_spans(snippet.text, answer_kind(question), question))

    def mark(self, question: str, snippet: Snippet, query: str | None = None) -> Snippet:
        """Return the snippet with its answer span highlighted (done only for those shown).

        The kind of span comes from the question; the words it must not repeat, and that
        point at it, come from the query (the question plus words carried from a chat).
        """
        found = best_span(snippet.text, answer_kind(question), question, query or "")
        return replace(snippet, highlight=found)
