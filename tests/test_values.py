"""Answer values compared as a reader would (qa/text/values.py)."""

from __future__ import annotations

import pytest

from qa.text.values import same_value, value_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("$2.1 billion", "2.1 billion dollars"),
        ("US$2.1bn", "$2.1 billion"),
        ("4.8 billion dollars", "$4.8 billion"),
        ("1,200", "1200 employees"),
        ("58", "58 people"),
        ("Priya Ramanathan", "Ms Ramanathan"),
        ("£4.10", "4.10 pounds"),
        ("2.1 billion", "$2.1bn"),  # the currency unsaid
        ("September 1, 2012", "Sept. 1, 2012"),
    ],
)
def test_two_wordings_of_one_value_are_the_same(a, b):
    assert same_value(value_key(a), value_key(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("$650 million", "$2.1 billion"),
        ("£4.10", "£4.75"),
        ("120,000", "45,000"),
        ("$4.8 billion", "£4.8 billion"),  # another currency
        ("1 June 2024", "1 June 2025"),  # a day, not the number 1
        ("Tobias Lindqvist", "Priya Ramanathan"),
    ],
)
def test_two_values_stay_apart(a, b):
    assert not same_value(value_key(a), value_key(b))


def test_text_without_a_number_or_a_word_has_no_value():
    assert value_key(" — ") is None
