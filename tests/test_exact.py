"""Exact answers on the default seeds, with the real models (embedder, reranker, span reader)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


def _exact(answer):
    top = answer.citations[answer.exact.citation]
    a, b = top.highlight
    assert top.snippet[a:b] == answer.exact.text  # the citation marks the very words
    return answer.exact


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how much did Alibaba invest?", {"US$200 million"}),
        ("who is the CEO of Alibaba?", {"Jack Ma"}),
        ("who leads the Aliyun OS business?", {"Jonathan Lu", "Wang Jian"}),
    ],
)
def test_the_exact_words_answer_the_question(default_answerer, question, expected):
    answer = default_answerer.ask(question)
    exact = _exact(answer)
    assert exact.text in expected and 0 < exact.score <= 1 and exact.date is None
    assert answer.to_json()["exact"]["text"] == exact.text


def test_a_relative_date_is_grounded_in_the_article(default_answerer):
    answer = default_answerer.ask("when did Jack Ma send the memo?")
    exact = _exact(answer)
    assert exact.text == "yesterday" and exact.date == "2012-09-20"
    assert answer.citations[0].date.startswith("2012-09-21")


def test_a_follow_up_gets_its_exact_answer(default_answerer):
    from qa.query import Turn

    first = default_answerer.ask("how much did Alibaba invest?")
    follow = default_answerer.ask(
        "and when did that happen?", history=(Turn(first.question, first.answer),)
    )
    assert follow.citations[0].article_id == first.citations[0].article_id
    assert follow.exact is not None and follow.exact.date is not None


def test_without_the_reader_the_rules_mark_the_exact_answer(default_answerer):
    answer = default_answerer.ask("how much did Alibaba invest?", read=False)
    assert _exact(answer).text == "US$200 million" and answer.exact.score is None


def test_an_abstention_has_no_exact_answer(default_answerer):
    answer = default_answerer.ask("What is the capital of Mars?")
    assert answer.answer is None and answer.exact is None
    assert answer.to_json()["exact"] is None
