"""The value that flows through the answering pipeline: each stage returns a fuller copy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.stores.base import Scope
from qa.followup import FollowUp, Query
from qa.query import Request
from qa.retrieval import Passage
from qa.text.snippets import Snippet
from qa.text.timeline import Period


@dataclass(frozen=True)
class Candidates:
    """What the pipeline knows about one question so far, in the order stages fill it in."""

    request: Request
    query: Query  # what is searched: the question plus words carried from the chat
    follow_up: FollowUp
    scope: Scope  # the rows the filters admit
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # of query.text
    bm25: tuple[Passage, ...] = ()
    dense: tuple[Passage, ...] = ()
    fused: tuple[Passage, ...] = ()  # the passages read, best first
    windows: tuple[Snippet, ...] = ()  # distinct snippets, best first
    logits: tuple[float, ...] = ()  # the cross-encoder's own logit of each window, if reranked
    found: tuple = ()  # the span reader's answer in each of the first windows (Found or None)
    period: Period | None = None  # the time the question names, read on the day it is asked
    timeline: tuple = ()  # the distinct dated values (qa.stages.timing.Entry), newest first

    @property
    def reranked(self) -> bool:
        """Return whether the windows are in the cross-encoder's order."""
        return bool(self.logits)
