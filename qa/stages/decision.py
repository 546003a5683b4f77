"""Stage 5, decision: cite the best snippets, then answer or say the articles don't cover it."""

from __future__ import annotations

from dataclasses import replace

from qa.answer import Answer, Citation, Dated, Exact
from qa.candidates import Candidates
from qa.explain import explain
from qa.retrieval import Retriever
from qa.text import timeline
from qa.text.kinds import DATES, answer_kind
from qa.text.snippets import Snippet, SnippetScorer
from qa.text.values import same_text

# Below these the top citation is taken not to answer the question: its cross-encoder logit
# when reranking, else its cosine similarity to the question (calibrated by `qa eval` on
# squad-dev plus off-topic questions; docs/evaluation.md). A cosine means something only for
# the model it was calibrated with: other embedders never abstain without reranking.
# The logit, -1.5 (was 0.0): bench/calibration.py on squad-train refuses 2.0 % of answerable
# questions (4.3 % at 0.0) and still catches 94 % of questions on other articles (96.7 %); on
# eval/news calibration it catches 20 of 30 off-topic questions (23 at 0.0). The reader
# overruling a weak logit when it is sure was measured too: it loses more catches than it saves.
ABSTAIN_LOGIT = -1.5
ABSTAIN_COSINE = {"all-MiniLM-L6-v2": 0.43}
NOT_COVERED = "The articles don't cover this question; the closest passages are listed."
NOTHING_FOUND = "The articles don't cover this question."
NO_MATCH = "No article matches the filters."


class Decision:
    """Turn the final candidates into an Answer, abstaining on a weak top citation."""

    def __init__(self, scorer: SnippetScorer, retriever: Retriever) -> None:
        self.scorer = scorer
        self.retriever = retriever

    def confidence(self, c: Candidates) -> tuple[float, float | None]:
        """Return the top citation's own score and the threshold it must reach."""
        if c.reranked:
            return c.logits[0], ABSTAIN_LOGIT
        row = c.windows[0].passage.row
        cosine = next((p.score for p in c.dense if p.row == row), None)
        if cosine is None:
            cosine = self.retriever.similarity(c.vector, row)
        return cosine, ABSTAIN_COSINE.get(self.retriever.embedder.name)

    def __call__(self, c: Candidates) -> Answer:
        """Cite up to k windows (their answer words marked) and decide whether they answer."""
        question = c.request.question
        if c.scope.size == 0:
            return Answer(question, None, (), NO_MATCH)
        citations = tuple(
            Citation.from_snippet(self._marked(c, i, w))
            for i, w in enumerate(c.windows[: c.request.k])
        )
        if not citations:
            return Answer(question, None, (), NOTHING_FOUND)
        confidence, threshold = self.confidence(c)
        explanation = explain(c, confidence, threshold) if c.request.explain else None
        weak = threshold is not None and confidence < threshold
        if weak and not c.follow_up.keeps_topic(citations[0].article_id):
            return Answer(question, None, citations, NOT_COVERED, explanation, period=c.period)
        exact = self.exact(c, citations[0])
        timeline = _dated(c, citations, exact)
        answer = Answer(question, citations[0].snippet, citations, None, explanation, exact)
        return replace(answer, timeline=timeline, period=c.period, as_of=_as_of(c))

    def _marked(self, c: Candidates, i: int, window: Snippet) -> Snippet:
        """Highlight the span reader's answer in a window it read, else the rules' one."""
        found = c.found[i] if i < len(c.found) else None
        if found is not None and found.headline:  # the headline answers; the window is context
            return replace(window, highlight=None, title_highlight=(found.start, found.end))
        if found is not None:
            return replace(window, highlight=(found.start, found.end))
        return self.scorer.mark(c.request.question, window, c.query.text)

    def exact(self, c: Candidates, top: Citation) -> Exact | None:
        """Return the words the top citation highlights, with a date grounded if they are one."""
        text = top.marked
        if text is None:
            return None
        found = c.found[0] if c.found else None
        published = c.windows[0].passage.article.date
        date = None
        if answer_kind(c.request.question) in DATES or timeline.is_relative(text):
            date = timeline.resolve(text, published.date() if published else None)
        return Exact(text, 0, found.probability if found else None, date)


def _as_of(c: Candidates) -> str | None:
    """Return the end of the period a question names if the answer stood by then ("in 2019":
    2019-12-31 when the cited article is from 2019 or before), else None."""
    period, published = c.period, c.windows[0].passage.article.date
    if period is None or period.relative or published is None or published.date() > period.end:
        return None
    return period.end.isoformat()


def _dated(c: Candidates, citations: tuple[Citation, ...], exact: Exact | None) -> tuple:
    """Return the timeline's values that are cited, the exact answer's marked current (none
    below two values: a question with one answer has no timeline)."""
    out, current = [], False
    for e in c.timeline:
        if e.window >= len(citations):
            continue
        mine = not current and exact is not None and same_text(e.text, exact.text)
        current = current or mine
        out.append(Dated(e.text, e.published.date().isoformat(), e.window, e.conflict, mine))
    return tuple(out) if len(out) > 1 else ()
