"""Inputs cut to fit every model: the question's token budget, history bounds, one date parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from cli.main import cli
from qa.cross_encoder import QUESTION_TOKENS
from qa.errors import MAX_QUESTION_CHARS, BadQuestion, check_question
from qa.followup import MAX_CARRIED, resolve
from qa.query import MAX_ANSWER_CHARS, MAX_HISTORY, Filters, Turn, parse_day

LONG_QUESTIONS = [
    "阿里巴巴投资了多少钱" * 30,
    "how much did Alibaba invest " + "1 " * 248,
    "Alibaba invest " * 66 + "x" * 10,
    "a " * 499 + "b",
    " ".join(f"term{i}" for i in range(200)),
]


@pytest.mark.model
@pytest.mark.parametrize("question", LONG_QUESTIONS, ids=range(len(LONG_QUESTIONS)))
def test_a_long_question_is_cut_to_its_token_budget_then_paired(reranker, question):
    cut = reranker.fit_question(question)
    assert question.startswith(cut) and len(cut) < len(question)
    assert len(reranker._measure.encode(cut, add_special_tokens=False).ids) == QUESTION_TOKENS
    passages = ["Alibaba. The company will invest US$200 million into Aliyun OS.", "x " * 600]
    scores = reranker.score(question, passages)
    assert scores.shape == (2,) and all(abs(s) < 100 for s in scores)


@pytest.mark.model
def test_a_short_question_is_scored_as_before(reranker):
    question = "how much did Alibaba invest?"
    assert reranker.fit_question(question) == question
    scores = reranker.score(question, ["Alibaba will invest US$200 million.", "Cats sleep a lot."])
    assert scores[0] > scores[1]


@pytest.mark.parametrize(
    "value",
    ["2012W01T12", "2012-W01-1", "20120101", "2021-04-31", "2021-02-30T10:00", "2021-01-01T25:00",
     "yesterday", "2021-01-01T10:00+25:00", "2021-01-01garbage", " 2021-01-01", "２０２１-01-01",
     "9999-12-31T23:59:59.9999999"],
)  # fmt: skip
def test_every_bad_date_is_a_bad_question(value):
    with pytest.raises(BadQuestion, match="filters.after"):
        parse_day(value, "after", False)


def test_dates_that_parse():
    assert parse_day("2021-03-15", "after", False) == datetime(2021, 3, 15, tzinfo=UTC)
    end = parse_day("2021-03-15", "before", True)
    assert end.date().isoformat() == "2021-03-15" and end.hour == 23
    assert parse_day("2021-03-15T12:30:00Z", "after", False) == datetime(
        2021, 3, 15, 12, 30, tzinfo=UTC
    )
    assert parse_day("2021-03-15T12:30+02:00", "after", False).utcoffset().total_seconds() == 7200
    assert parse_day(None, "after", False) is None and parse_day("", "after", False) is None
    assert Filters.from_json({"author": None, "after": None}) == Filters()


def test_history_is_bounded_in_turns_and_characters():
    data = [
        {"question": f"q{n} " + "x" * 5000, "answer": "a" * 5000} for n in range(MAX_HISTORY + 5)
    ]
    turns = Turn.list_from_json(data)
    assert len(turns) == MAX_HISTORY and turns[0].question.startswith("q5 ")
    assert all(len(t.question) == MAX_QUESTION_CHARS for t in turns)
    assert all(len(t.answer) == MAX_ANSWER_CHARS for t in turns)


def test_a_follow_up_carries_a_bounded_number_of_words():
    history = (Turn(" ".join(f"term{i}" for i in range(400)), "an answer"),)
    query = resolve("and when did that happen?", history)
    assert len(query.text.split()) <= MAX_CARRIED + 3
    assert "term0" in query.text


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "ok \udced"])
def test_a_question_that_is_not_valid_unicode_is_refused(text):
    with pytest.raises(BadQuestion, match="not valid Unicode"):
        check_question(text)
    with pytest.raises(BadQuestion, match="not valid Unicode"):
        Turn.list_from_json([{"question": text}])


def test_the_cli_refuses_a_question_of_undecodable_bytes(tmp_path):
    # A shell argument that is not UTF-8 reaches Python as lone surrogates (surrogateescape).
    args = ["ask", "how much \udcff\udcfe?", "--index", str(tmp_path / "none")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "not valid Unicode" in result.output
