"""Answers that know when, with the real models, on the fictional series of eval/timeline.

The series are indexed beside 20 default seeds. Each question of eval/timeline/questions.jsonl
is asked as a user would (with its `now` where it has one) and must hold its case: the newest
value when no time is named, the value then for a named year, both values marked as a
conflict, the week's answer for "this week", and no timeline at all for a one-answer control.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.text.values import same_text

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "eval" / "timeline"
QUESTIONS = [
    json.loads(line)
    for line in (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory, real_embedder, reranker):
    from index.build import build
    from qa.pipeline import Answerer

    seeds = tmp_path_factory.mktemp("timeline-seeds")
    for path in sorted((ROOT / "seeds").iterdir())[:20]:
        shutil.copy(path, seeds / path.name)
    for path in (DATA / "articles").iterdir():
        shutil.copy(path, seeds / path.name)
    index_dir = tmp_path_factory.mktemp("timeline-index")
    build(seeds, index_dir, real_embedder)
    return Answerer.open(index_dir, real_embedder, reranker=reranker)


def _ask(answerer, q: dict):
    answer = answerer.ask(q["question"], now=q.get("now"))
    for d in answer.timeline:  # every value is cited, its words highlighted there
        c = answer.citations[d.citation]
        assert c.highlight and c.snippet[c.highlight[0] : c.highlight[1]] == d.text
        assert c.date.startswith(d.date)
    dates = [d.date for d in answer.timeline]
    assert dates == sorted(dates, reverse=True), "newest first"
    if answer.timeline:  # the exact answer's value is marked, once
        [current] = [d for d in answer.timeline if d.current]
        assert same_text(current.text, answer.exact.text)
    return answer


def _cases(case: str) -> list[dict]:
    found = [q for q in QUESTIONS if q["case"] == case]
    assert found, f"eval/timeline has no {case} question"
    return found


@pytest.mark.parametrize("q", _cases("current"), ids=lambda q: q["id"])
def test_no_time_named_gets_the_newest_value_and_every_earlier_one_dated(answerer, q):
    answer = _ask(answerer, q)
    assert any(same_text(answer.exact.text, a) for a in q["answers"]), answer.exact.text
    listed = {(d.date, d.text) for d in answer.timeline}
    missing = [
        g
        for g in q["timeline"]
        if not any(d == g["date"] and same_text(t, g["text"]) for d, t in listed)
    ]
    assert len(missing) <= 1, f"values not in the timeline: {missing}"  # see docs/evaluation.md
    assert answer.timeline[0].date == q["timeline"][0]["date"]


@pytest.mark.parametrize("q", _cases("then"), ids=lambda q: q["id"])
def test_a_named_year_gets_the_value_then(answerer, q):
    answer = _ask(answerer, q)
    assert any(same_text(answer.exact.text, a) for a in q["answers"]), answer.exact.text
    assert answer.to_json()["as_of"] == q["as_of"]
    assert answer.timeline, "the other values are listed too"


def test_outlets_that_disagree_are_both_marked(answerer):
    (q,) = _cases("conflict")
    answer = _ask(answerer, q)
    marked = [d.text for d in answer.timeline if d.conflict]
    assert all(any(same_text(m, a) for m in marked) for a in q["answers"]), marked


@pytest.mark.parametrize("q", _cases("relative"), ids=lambda q: q["id"])
def test_this_week_is_the_week_it_is_asked_in(answerer, q):
    answer = _ask(answerer, q)
    assert answer.exact.text in q["answers"]
    assert answer.period is not None and answer.period.words == "this week"
    later = [c for c in answer.citations if c.date[:10] > q["now"]]
    assert not later, "articles published after `now` are not used"


@pytest.mark.parametrize("q", _cases("control"), ids=lambda q: q["id"])
def test_a_one_answer_question_gets_no_timeline(answerer, q):
    answer = _ask(answerer, q)
    assert answer.exact.text in q["answers"]
    assert answer.timeline == () and answer.to_json()["timeline"] is None
