"""Read retrieved passages: score their sentences, cut a verbatim snippet, mark the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from index.chunking import split_sentences
from qa.retrieval import Passage
from qa.spans import answer_kind, find_spans
from qa.terms import terms

MAX_SNIPPET = 400
SHORT_SENTENCE = 80  # below this a lone sentence rarely stands on its own: add a neighbour
_W_PASSAGE, _W_CONTEXT, _W_KIND = 0.6, 0.25, 0.3


@dataclass(frozen=True)
class Snippet:
    """A verbatim piece of an article chosen to answer a question."""

    passage: Passage
    start: int  # offsets into the article text
    end: int
    score: float
    highlight: tuple[int, int] | None  # relative to the snippet

    @property
    def text(self) -> str:
        """Return the snippet's text, copied from the article."""
        return self.passage.article.text[self.start : self.end]


def _overlap(
    question_terms: set[str], text_terms: set[str], weight: Callable[[str], float]
) -> float:
    total = sum(weight(t) for t in question_terms)
    return sum(weight(t) for t in question_terms & text_terms) / total if total else 0.0


def _fit(text: str, start: int, end: int, focus: tuple[int, int] | None) -> tuple[int, int]:
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


class Reader:
    """Pick, inside each passage, the sentence that best answers the question."""

    def __init__(self, weight: Callable[[str], float]) -> None:
        self.weight = weight  # a term's importance, e.g. its idf in the corpus

    def read(self, question: str, passages: list[Passage]) -> list[Snippet]:
        """Return one snippet per passage, best first."""
        q_terms = set(terms(question))
        kind = answer_kind(question)
        snippets = [self._best(question, q_terms, kind, p) for p in passages]
        return sorted((s for s in snippets if s), key=lambda s: -s.score)

    def _best(
        self, question: str, q_terms: set[str], kind: str | None, passage: Passage
    ) -> Snippet | None:
        chunk, text = passage.chunk, passage.article.text
        spans = [(chunk.start + s, chunk.start + e) for s, e in split_sentences(chunk.text)]
        if not spans:
            return None
        sent_terms = [set(terms(text[s:e])) for s, e in spans]
        best = None
        for i, (s, e) in enumerate(spans):
            near = set().union(*sent_terms[max(0, i - 1) : i + 2])
            found = find_spans(text[s:e], kind, question, exact=True)
            score = (
                _W_PASSAGE * passage.score
                + _overlap(q_terms, sent_terms[i], self.weight)
                + _W_CONTEXT * _overlap(q_terms, near, self.weight)
                + (_W_KIND if found else 0.0)
            )
            if best is None or score > best[0]:
                best = (score, i)
        score, i = best
        start, end = spans[i]
        if end - start < SHORT_SENTENCE:
            # Pair a short sentence with the neighbour sharing more of the question.
            options = [j for j in (i - 1, i + 1) if 0 <= j < len(spans)]
            if options:
                j = max(options, key=lambda j: (_overlap(q_terms, sent_terms[j], self.weight), j))
                lo, hi = min(start, spans[j][0]), max(end, spans[j][1])
                if hi - lo <= MAX_SNIPPET:
                    start, end = lo, hi
        found = find_spans(text[start:end], kind, question)
        focus = (start + found[0][0], start + found[0][1]) if found else None
        start, end = _fit(text, start, end, focus)
        found = [(a, b) for a, b in find_spans(text[start:end], kind, question)]
        return Snippet(passage, start, end, score, found[0] if found else None)
