"""Stage 2, selection: read the fused passages into distinct snippets, best first."""

from __future__ import annotations

from dataclasses import replace

from qa.candidates import Candidates
from qa.text.dedup import distinct
from qa.text.snippets import SnippetScorer


class Selection:
    """Cut each passage's best sentences into snippets and keep each piece of news once."""

    def __init__(self, scorer: SnippetScorer) -> None:
        self.scorer = scorer

    def __call__(self, c: Candidates) -> Candidates:
        """Fill in the windows: snippets by rule score, repeats of the last answer last."""
        passages = list(c.fused)
        scores = c.follow_up.boost(passages, [p.score for p in passages])
        read = self.scorer.snippets(
            c.request.question, passages, query=c.query.text, passage_scores=scores
        )
        windows = c.follow_up.demote_repeats(list(distinct(read)))
        return replace(c, windows=tuple(windows))
