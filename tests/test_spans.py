"""The kind of answer a question asks for, and the span of that kind highlighted in a text."""

from __future__ import annotations

import pytest

from qa.text.kinds import answer_kind
from qa.text.spans import best_span, find_spans


@pytest.mark.parametrize(
    "question, kind",
    [
        ("how much did Alibaba invest?", "money"),
        ("What was the valuation of Stripe?", "money"),
        ("what percentage of users pay?", "percent"),
        ("How many people attended?", "count"),
        ("How long did the outage last?", "number"),
        ("How tall is the Bank of America Tower?", "number"),
        ("When did Cruise buy Voyage?", "date"),
        ("when did Alibaba invest?", "date"),  # the wh-word beats the money topic
        ("In what year was the memo sent?", "year"),
        ("Who runs Aliyun?", "person"),
        ("Where did Super Bowl 50 take place?", "place"),
        ("In which city is the stadium?", "city"),
        ("Which NFL team won?", "organization"),
        ("Which of the two won?", "name"),
        ("Which pop star sued the label?", "person"),  # the head noun, not only the wh-word
        ("Which footballer scored twice?", "person"),
        ("What CEO stepped down?", "person"),
        ("Which tech company bought Voyage?", "organization"),
        ("Which startup raised $30M?", "organization"),  # "which" beats the money topic
        ("Which firm led the round?", "organization"),
        ("What company's CEO resigned?", "person"),
        ("Which European city hosts the summit?", "city"),
        ("Which country banned the app?", "country"),
        ("What year did Stripe launch?", "year"),
        ("What does Doctor Who fight?", None),  # "Who" inside a name asks nothing
        ("If two numbers give a value, what is it called?", None),
        ("Why did the stock fall?", None),
    ],
)
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


def _marked(text: str, question: str, context: str = "") -> str | None:
    span = best_span(text, answer_kind(question), question, context)
    return text[span[0] : span[1]] if span else None


ALIYUN = (
    "3. The company will invest US$200 million into the Aliyun OS business, to strengthen "
    "its talent base, technology, and infrastructure."
)


@pytest.mark.parametrize(
    "text, question, expected",
    [
        (ALIYUN, "how much did Alibaba invest?", "US$200 million"),
        (
            "Bird will spend $150 million on its European expansion.",
            "how much will Bird spend?",
            "$150 million",
        ),
        (
            "Revenue grew 45% in 2020 to 3 billion users.",
            "what percentage did revenue grow?",
            "45%",
        ),
        (
            "The tallest building is the Bank of America Tower, constructed in 1990. "
            "It has a height of 617 ft (188 m) and includes 42 floors.",
            "How tall is the Bank of America Tower?",
            "617 ft",
        ),
        (
            "The team has sixty-five engineers in Berlin.",
            "How many engineers are there?",
            "sixty-five",
        ),
        ("The trial ran for three years in Kenya.", "How long did the trial run?", "three years"),
        (
            "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara.",
            "When was the game played?",
            "February 7, 2016",
        ),
        (
            "News of the spin off came in an internal memo sent yesterday by Alibaba CEO Jack Ma.",
            "who is the CEO of Alibaba?",
            "Jack Ma",
        ),
        (
            "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara, California.",
            "Where was the game played?",
            "Levi's Stadium",
        ),
    ],
)
def test_highlight_by_question_type(text, question, expected):
    assert _marked(text, question) == expected


def test_no_highlight_without_a_kind_or_a_span():
    assert _marked(ALIYUN, "why did Alibaba spin off Aliyun?") is None
    assert _marked("Nothing dated here at all.", "when did it happen?") is None


def test_spans_never_just_repeat_the_question():
    text = "Alibaba CEO Jack Ma wrote the memo in 2012."
    assert _marked(text, "who wrote the memo at Alibaba?") == "Jack Ma"
    # words carried over from a chat count as already said, too
    assert _marked("Alibaba Group is run by Jonathan Lu.", "who runs it?", "Alibaba invest") == (
        "Jonathan Lu"
    )


def test_currency_prefix_and_list_numbers_are_not_answers():
    assert _marked(ALIYUN, "who runs it?") == "Aliyun OS"  # not the "US" of "US$200"
    assert find_spans("1. The business spins off.", "number") == []


def test_a_bare_year_loses_to_an_amount():
    text = "In 2019, the company sold 2,500 cars."
    assert _marked(text, "how many cars did the company sell?") == "2,500"


def test_exact_mode_skips_the_looser_fallback():
    text = "The round was 200 strong."
    assert find_spans(text, "money", exact=True) == []
    assert find_spans(text, "money") == [(14, 17)]


@pytest.mark.parametrize(
    "text, question, expected",
    [
        # the gazetteers tell a country or a city from any other place name (each case here
        # marked the wrong name when the wh-word alone chose the kind)
        (
            "Aliyun's first foreign data centre, planned in Hangzhou, will open in Singapore.",
            "Which country will get Aliyun's first foreign data centre?",
            "Singapore",
        ),
        (
            "Alibaba is based in China, in Hangzhou.",
            "Which city is Alibaba based in?",
            "Hangzhou",
        ),
        # an organisation is a name that is no country and no city
        (
            "Announced in Berlin, the round was led by Sequoia Capital, the startup said.",
            "Which firm led the round?",
            "Sequoia Capital",
        ),
        # "what year" wants the year, not the whole date
        (
            "The memo was sent on September 21, 2012 to every employee.",
            "What year was the memo sent?",
            "2012",
        ),
        # "how many" never answers with a bare year
        (
            "In 2019 the startup hired 40 engineers.",
            "How many engineers did the startup hire?",
            "40",
        ),
    ],
)
def test_highlight_by_head_noun(text, question, expected):
    assert _marked(text, question) == expected


def test_typed_kinds_fall_back_to_any_name():
    # No country in the text: "which country" still marks a name rather than nothing.
    assert _marked("The ban came from Brussels regulators.", "Which country banned it?") == (
        "Brussels"
    )
    assert find_spans("Made by Acme Corp in Ohio.", "country", exact=True) == []
