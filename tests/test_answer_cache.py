"""Whole answers are kept per generation: asked again the same day, the pipeline is not run."""

from __future__ import annotations

from datetime import date

import pytest

from index.build import build
from index.store import load_index
from qa.pipeline import Answerer


@pytest.fixture
def fake_index(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    return load_index(tmp_path / "ix")


class CountingStage:
    """A stage that passes candidates on unchanged and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, c):
        self.runs += 1
        return c


def _answerer(index, embedder, **options) -> tuple[Answerer, CountingStage]:
    answerer = Answerer(index, embedder, rerank=False, read=False, **options)
    counter = CountingStage()
    answerer.stages = (*answerer.stages, counter)
    return answerer, counter


def test_the_same_question_is_answered_once(fake_index, fake_embedder):
    answerer, counter = _answerer(fake_index, fake_embedder)
    first = answerer.ask("how much did Alibaba invest?")
    again = answerer.ask("how much did Alibaba invest?")
    assert counter.runs == 1 and again is first and answerer.answers.hits == 1
    assert first.citations  # an empty answer would make the check above trivial


def test_another_request_or_day_or_explain_is_answered_afresh(fake_index, fake_embedder):
    answerer, counter = _answerer(fake_index, fake_embedder)
    answerer.ask("how much did Alibaba invest?")
    answerer.ask("how much did Alibaba invest?", k=2)
    answerer.ask("how much did Alibaba invest?", now=date(2020, 1, 1))
    answerer.ask("how much did Alibaba invest?", now=date(2020, 1, 2))
    answerer.ask("how much did Alibaba invest?", explain=True)
    answerer.ask("how much did Alibaba invest?", explain=True)
    assert counter.runs == 6 and answerer.answers.hits == 0


def test_a_new_generation_starts_empty_and_the_cache_is_bounded(fake_index, fake_embedder):
    answerer, _ = _answerer(fake_index, fake_embedder, answers=2)
    for k in (1, 2, 3):
        answerer.ask("how much did Alibaba invest?", k=k)
    answerer.ask("how much did Alibaba invest?", k=1)  # the oldest, dropped past 2
    assert answerer.answers.hits == 0
    fresh, counter = _answerer(fake_index, fake_embedder)
    fresh.ask("how much did Alibaba invest?", k=3)
    assert counter.runs == 1
