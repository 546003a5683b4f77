"""Relative dates in an answer are resolved against the article's publication day."""

from __future__ import annotations

from datetime import date

import pytest

from qa.text.timeline import is_relative, resolve, show

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
