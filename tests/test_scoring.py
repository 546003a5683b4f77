"""Exact-answer scores follow SQuAD v1.1's evaluation script."""

from __future__ import annotations

import pytest

from qa.evaluation.metrics import exact_scores, f1, squad_normalize


def test_normalisation_drops_case_punctuation_and_articles():
    assert squad_normalize("The  U.S. Army!") == "us army"
    assert squad_normalize("an apple, a pear") == "apple pear"


@pytest.mark.parametrize(
    ("prediction", "golds", "em", "f1_"),
    [
        ("US$200 million", ["US$200 million"], 1.0, 1.0),
        ("the Denver Broncos", ["Denver Broncos"], 1.0, 1.0),
        ("Broncos", ["Denver Broncos"], 0.0, 2 / 3),
        ("Santa Clara", ["Levi's Stadium", "Santa Clara, California"], 0.0, 0.8),
        (None, ["Jack Ma"], 0.0, 0.0),
        ("Jack Ma", [], 0.0, 0.0),
    ],
)
def test_scores_take_the_best_gold(prediction, golds, em, f1_):
    assert exact_scores(prediction, golds) == pytest.approx((em, f1_))


def test_f1_of_nothing_in_common_is_zero():
    assert f1("Wang Jian", "Jonathan Lu") == 0.0
