"""Asking the saved questions again: one check per question and generation, changes recorded.

The server runs `check_all` after it loads each new generation (web/saved.py); `qa saved
check` runs it against the live generation at once. Whoever claims a question's generation
first asks it; the other workers skip it, and the store records a change at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from index.errors import IndexError_
from qa.answer import Answer
from qa.errors import BadQuestion, ModelMissing
from qa.query import Filters
from qa.saved.store import Kept, Saved, SavedStore

log = logging.getLogger(__name__)


class Asks(Protocol):
    """What a check needs of an answerer (qa.pipeline.Answerer, or a test's fake)."""

    def ask(self, question: str, k: int = 5, *, filters: Filters | None = None) -> Answer:
        """Answer a question."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What one check found for one saved question."""

    saved_id: str
    question: str
    generation: str
    status: str  # baseline, unchanged, changed, skipped, removed or failed
    before: str | None = None  # exact words kept before (changed) or now (unchanged)
    after: str | None = None
    error: str | None = None

    def line(self) -> str:
        """Return the outcome as one line for the terminal."""
        words = {
            "changed": f"changed: {_words(self.before)} → {_words(self.after)}",
            "baseline": f"baseline: {_words(self.after)}",
            "unchanged": f"unchanged: {_words(self.after)}",
            "skipped": "skipped: checked at this generation already",
            "removed": "removed meanwhile",
            "failed": f"failed: {self.error}",
        }[self.status]
        return f"{self.saved_id}  {self.generation}  {words}  ({self.question})"


def _words(exact: str | None) -> str:
    return "no answer" if exact is None else repr(exact)


def check_one(store: SavedStore, saved: Saved, answerer: Asks, generation: str) -> Outcome:
    """Ask one saved question at a generation, unless another check claimed it first."""
    if not store.claim(saved.id, generation):
        return Outcome(saved.id, saved.question, generation, "skipped")
    recorded = False
    try:
        answer = answerer.ask(saved.question, filters=Filters.from_json(saved.filters or None))
        status, before = store.record(saved.id, generation, answer.to_json())
        recorded = True
    finally:
        if not recorded:  # failed: let the next check of this generation try again
            store.release(saved.id, generation)
    after = answer.exact.text if answer.exact else None
    return Outcome(saved.id, saved.question, generation, status, before and before.exact, after)


def baseline(store: SavedStore, saved: Saved, answerer: Asks, generation: str) -> Kept | None:
    """Keep a new question's answer now, without a claim: its first change is then seen.

    A check that claimed the same generation meanwhile is harmless: the store keeps one
    answer per generation, and a baseline is never a change.
    """
    answer = answerer.ask(saved.question, filters=Filters.from_json(saved.filters or None))
    store.record(saved.id, generation, answer.to_json())
    return store.kept(saved.id)


def check_all(
    store: SavedStore,
    answerer: Asks,
    generation: str | None = None,
    *,
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Ask every saved question at a generation (default: answerer.index's); record changes.

    A question whose ask fails (a model missing, the store down) is reported as failed and
    left unclaimed, so the next check retries it; the others go on.
    """
    generation = generation or answerer.index.generation
    outcomes = []
    for saved in store.all():
        try:
            outcome = check_one(store, saved, answerer, generation)
        except (IndexError_, ModelMissing, BadQuestion) as err:
            log.warning("saved question %s not checked at %s: %s", saved.id, generation, err)
            outcome = Outcome(saved.id, saved.question, generation, "failed", error=str(err))
        outcomes.append(outcome)
        if report is not None:
            report(outcome)
    if any(o.status == "changed" for o in outcomes):
        log.info("saved questions at %s: %d changed", generation, _count(outcomes, "changed"))
    return outcomes


def _count(outcomes: list[Outcome], status: str) -> int:
    return sum(o.status == status for o in outcomes)
