"""The timing stage's rules on hand-made values (no models): one value per article, groups,
the newest or as-of choice, conflicts between outlets at the same moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from qa.stages.timing import Dated, Timing, _conflicts, _group, _one_per_article
from qa.text.timeline import Period
from qa.text.values import value_key


def _v(window: int, text: str, day: str, article: str, source: str = "news.test", hour=9):
    published = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    return Dated(window, text, value_key(text), published, source, article)


SERIES = [  # in window order, as the cross-encoder ranked them
    _v(0, "$4.8 billion", "2019-06-12", "q3"),
    _v(1, "$2.1 billion", "2019-06-12", "q3"),  # "up from $2.1 billion last year"
    _v(2, "US$2.1bn", "2018-04-03", "q2"),
    _v(3, "$650 million", "2017-01-09", "q1"),
]


def _choose(values, period=None):
    groups = _group(_one_per_article(values))
    return Timing._choose(SimpleNamespace(period=period), groups), groups


def test_each_article_gives_the_value_it_first_reports():
    kept = _one_per_article(SERIES)
    assert [v.text for v in kept] == ["$650 million", "US$2.1bn", "$4.8 billion"]
    named = [
        _v(0, "Tobias Lindqvist", "2022-09-27", "h3"),  # "replacing Tobias Lindqvist"
        _v(1, "Priya Ramanathan", "2022-09-27", "h3"),
        _v(2, "Tobias Lindqvist", "2019-02-11", "h2"),
    ]
    assert [v.text for v in _one_per_article(named)] == ["Tobias Lindqvist", "Priya Ramanathan"]


def test_wordings_of_one_value_group_together_dated_by_the_first_report():
    groups = _group(SERIES)
    assert [[v.text for v in g] for g in groups] == [
        ["$650 million"],
        ["US$2.1bn", "$2.1 billion"],
        ["$4.8 billion"],
    ]


def test_no_time_named_chooses_the_newest_value():
    chosen, _ = _choose(SERIES)
    assert chosen == 0


def test_a_named_year_chooses_the_value_as_it_stood_then():
    in_2018 = Period(date(2018, 1, 1), date(2018, 12, 31), "in 2018", False)
    assert _choose(SERIES, in_2018)[0] == 2
    in_2016 = Period(date(2016, 1, 1), date(2016, 12, 31), "in 2016", False)
    assert _choose(SERIES, in_2016)[0] is None  # nothing reported yet: keep the first window


def test_a_relative_period_prefers_a_value_reported_in_it():
    values = [_v(0, "Roamly", "2022-10-13", "old"), _v(1, "Zippa", "2024-05-02", "new")]
    week = Period(date(2024, 4, 29), date(2024, 5, 5), "this week", True)
    assert _choose(values, week)[0] == 1
    nothing_then = Period(date(2023, 1, 2), date(2023, 1, 8), "this week", True)
    assert _choose(values, nothing_then)[0] is None


def test_outlets_that_disagree_at_the_same_moment_conflict():
    march = [
        _v(0, "45,000", "2023-05-20", "police", "eveningledger.test", hour=19),
        _v(1, "120,000", "2023-05-20", "organizers", "dailyexample.test", hour=15),
    ]
    groups = _group(march)
    assert _conflicts(groups) == {0, 1}
    later = [march[0], _v(1, "120,000", "2023-05-22", "organizers", "dailyexample.test")]
    assert _conflicts(_group(later)) == set()  # two days apart: a change, not a conflict
    same_outlet = [march[0], _v(1, "120,000", "2023-05-20", "b", "eveningledger.test", hour=15)]
    assert _conflicts(_group(same_outlet)) == set()  # one outlet revising itself
