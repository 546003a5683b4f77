"""Relative dates in an answer are resolved against the article's publication day."""

from __future__ import annotations

from datetime import date

import pytest

from qa.text.timeline import is_relative, question_period, resolve, show

PUBLISHED = date(2012, 9, 21)  # a Friday: the Aliyun article


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("yesterday", "2012-09-20"),
        ("today", "2012-09-21"),
        ("tomorrow", "2012-09-22"),
        ("last Tuesday", "2012-09-18"),
        ("on Tuesday", "2012-09-18"),  # same week, already past
        ("Saturday", "2012-09-22"),  # the next day: still this week
        ("next Monday", "2012-09-24"),
        ("last Friday", "2012-09-14"),  # a week before, not the day itself
        ("this week", "2012-09-17"),  # named by its Monday
        ("last month", "2012-08"),
        ("last year", "2011"),
        ("two weeks ago", "2012-09-07"),
        ("3 months ago", "2012-06"),
        ("in March", "2012-03"),
        ("in November", "2011-11"),  # after September: last year's
        ("September 20", "2012-09-20"),
        ("Sept. 20, 2011", "2011-09-20"),
        ("20th of March 2009", "2009-03-20"),
        ("March 2011", "2011-03"),
        ("in 1998", "1998"),
        ("US$200 million", None),
        ("February 30", None),
    ],
)
def test_resolves_against_the_publication_day(words, expected):
    assert resolve(words, PUBLISHED) == expected


def test_without_a_publication_day_only_full_dates_resolve():
    assert resolve("September 20, 2012", None) == "2012-09-20"
    assert resolve("in 1998", None) == "1998"
    assert resolve("yesterday", None) is None
    assert resolve("in March", None) is None


def test_relative_words_are_told_apart_and_shown_with_their_day():
    assert is_relative("yesterday") and is_relative("in March") and is_relative("last week")
    assert not is_relative("March 2011") and not is_relative("in 1998")
    assert show("yesterday", "2012-09-20") == "yesterday — 20 Sep 2012"
    assert show("in March", "2012-03") == "in March — Mar 2012"
    assert show("last year", "2011") == "last year — 2011"


NOW = date(2024, 5, 3)  # a Friday


@pytest.mark.parametrize(
    ("question", "start", "end", "relative"),
    [
        ("How much was Quillfeather valued at in 2018?", "2018-01-01", "2018-12-31", False),
        ("How much did the fare cost in June 2020?", "2020-06-01", "2020-06-30", False),
        ("Who led it as of March 2021?", "2021-03-01", "2021-03-31", False),
        ("What did it cost in March?", "2024-03-01", "2024-03-31", False),  # the last March
        ("Which company recalled scooters this week?", "2024-04-29", "2024-05-05", True),
        ("Who won the election held last Sunday?", "2024-04-28", "2024-04-28", True),
        ("What happened yesterday?", "2024-05-02", "2024-05-02", True),
        ("Who resigned last month?", "2024-04-01", "2024-04-30", True),
        ("What did it announce two weeks ago?", "2024-04-15", "2024-04-21", True),
        ("Who was hired recently?", "2024-04-03", "2024-05-03", True),
        ("Who won on Tuesday?", "2024-04-30", "2024-04-30", True),
    ],
)
def test_a_question_names_a_period_read_on_the_day_it_is_asked(question, start, end, relative):
    period = question_period(question, NOW)
    assert period is not None, question
    assert (period.start.isoformat(), period.end.isoformat(), period.relative) == (
        start,
        end,
        relative,
    )
    assert period.words.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    [
        "Who is the chief executive of Harrowgate Motors?",
        "What was the death toll of the 2008 Sichuan earthquake?",  # a year in a name
        "Which NFL team won Super Bowl 50?",
        "In what year did the company open?",
    ],
)
def test_a_question_without_a_time_names_no_period(question):
    assert question_period(question, NOW) is None


def test_a_weekday_asked_before_it_comes_is_last_weeks():
    monday = date(2024, 4, 29)
    period = question_period("Who won on Friday?", monday)
    assert period is not None and period.start == date(2024, 4, 26)


@pytest.mark.parametrize(
    "question",
    [
        "What happened 3000 years ago?",  # before year 1
        "What happened 40000 months ago?",
        "What happened 99999999999999999999 days ago?",
        "How big were the Cyber Monday sales?",  # a weekday in a name
        "Which chain opened in 1500 cities?",  # a number, not a year
    ],
)
def test_words_that_name_no_readable_period_give_none(question):
    assert question_period(question, NOW) is None


def test_next_tuesday_is_after_the_day_asked():
    period = question_period("Who plays next Tuesday?", NOW)
    assert period is not None and period.start == date(2024, 5, 7)


def test_an_ago_before_year_one_resolves_to_nothing():
    assert resolve("3000 years ago", date(2020, 1, 1)) is None
