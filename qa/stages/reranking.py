"""Stage 3, reranking: the cross-encoder rescores the best snippets (optional)."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path

from qa.candidates import Candidates
from qa.cross_encoder import CrossEncoder
from qa.text.snippets import Snippet, SnippetScorer

# Best distinct snippets the cross-encoder rescores: 12, not 16, pays for the span reader
# (bench/exact.py). With sentences weighted above their passage (qa/text/snippets.py W_PASSAGE) the
# 300 squad-dev validation questions keep hit@1 (0.877 vs 0.873 at 16; docs/evaluation.md).
RERANK_WINDOWS = 12
# A cascade: the first SURE_WINDOWS are scored first, and when the best of them already scores
# SURE_SCORE the rest are not scored at all (a third of the cross-encoder's time). Chosen with
# bench/cascade.py on 400 squad-train questions: from 6.0 up the top window stayed the one all
# 12 give for every question (4.0 and 5.0: 0.998); at 6.0, 26 % of the windows go unscored.
SURE_WINDOWS = 8
SURE_SCORE = 6.0
# Windows of articles from the period the question names gain this much ("this week" more
# than "in 2019", where later articles may still hold the value as it stood then).
PERIOD_LOGIT = {True: 2.0, False: 1.0}  # by Period.relative
W_RULES = 0.5  # share of the snippet scorer's own score kept next to the cross-encoder's logit
KIND_LOGIT = 1.0  # a snippet holding the kind of answer asked for (a date for "when") gains


class Reranking:
    """Order snippets by cross-encoder logit plus small bonuses; keep each raw logit."""

    def __init__(
        self,
        scorer: SnippetScorer,
        cross_encoder: CrossEncoder | None = None,
        *,
        folder: Path | None = None,
        threads: int = 0,
        windows: int = RERANK_WINDOWS,
        sure_windows: int = SURE_WINDOWS,
        sure_score: float = SURE_SCORE,
    ) -> None:
        self.scorer = scorer
        self.windows = windows
        self.sure_windows, self.sure_score = sure_windows, sure_score
        self._folder, self._threads = folder, threads
        if cross_encoder is not None:  # share one loaded model between answerers
            self.__dict__["cross_encoder"] = cross_encoder

    @cached_property
    def cross_encoder(self) -> CrossEncoder:
        """The cross-encoder, loaded on first use (never for --no-rerank)."""
        return CrossEncoder(self._folder, self._threads)

    def __call__(self, c: Candidates) -> Candidates:
        """Rescore the first windows; the rest are dropped (they ranked too low to show)."""
        if not c.request.rerank or not c.windows:
            return c
        windows = c.windows[: max(self.windows, c.request.k)]  # k citations when k are asked
        first = max(self.sure_windows, c.request.k)
        scored = self._score(c, windows[:first])
        if windows[first:] and max(s[0].score for s in scored) < self.sure_score:
            scored += self._score(c, windows[first:])
        scored.sort(key=lambda s: (-s[0].score, -(s[1] + s[2])))
        scored = c.follow_up.demote_repeats(scored, lambda s: s[0].text)
        return replace(c, windows=tuple(s[0] for s in scored), logits=tuple(s[1] for s in scored))

    def _score(self, c: Candidates, windows: tuple[Snippet, ...]) -> list[tuple]:
        """Return (window rescored, its logit, its bonus) for each window."""
        # The cross-encoder judges the very snippets shown (title first, for context), not
        # whole chunks: cheaper, and it picks the sentence as well as the passage.
        logits = self.cross_encoder.score(
            c.query.text, [f"{w.passage.article.title}. {w.text}" for w in windows]
        )
        scored = []
        for logit, w in zip(logits.tolist(), windows, strict=True):
            kind = self.scorer.has_answer_kind(c.request.question, w)
            bonus = c.follow_up.logit_bonus(w.article_id) + KIND_LOGIT * kind + _in_period(c, w)
            scored.append((replace(w, score=logit + bonus + W_RULES * w.score), logit, bonus))
        return scored


def _in_period(c: Candidates, window: Snippet) -> float:
    """Return the logit bonus of a window whose article is from the question's period."""
    published = window.passage.article.date
    if c.period is None or published is None or not c.period.holds(published.date()):
        return 0.0
    return PERIOD_LOGIT[c.period.relative]
