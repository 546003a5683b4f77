"""The reader: which sentences answer, the snippet window, and verbatim offsets."""

from __future__ import annotations

from datetime import UTC, datetime

from index.articles import Article
from index.chunking import chunk_text
from qa.retrieval import Passage
from qa.text.snippets import MAX_SNIPPET, SnippetScorer, fit, normalise, overlap

TOWER = (
    "Jacksonville has many parks along the river. The city is the largest in Florida by area.\n\n"
    "The tallest building in Downtown Jacksonville's skyline is the Bank of America Tower, "
    "constructed in 1990 as the Barnett Center. It has a height of 617 ft (188 m) and includes "
    "42 floors. Other notable structures include the Wells Fargo Center.\n\n"
    "The port handles cars and containers."
)


def _passages(text: str, aid: str = "a") -> list[Passage]:
    article = Article(
        aid, aid, f"title {aid}", datetime(2020, 1, 1, tzinfo=UTC), "x", "u", text, "h"
    )
    return [Passage(c, article, 1.0, n) for n, c in enumerate(chunk_text(aid, text, 200))]


def _read(question: str, text: str = TOWER):
    reader = SnippetScorer(lambda term: 1.0)
    return [reader.mark(question, s) for s in reader.snippets(question, _passages(text))]


def test_overlap_weights_terms():
    weights = {"tower": 3.0, "tall": 1.0}
    assert overlap({"tower", "tall"}, {"tower"}, weights.get) == 0.75
    assert overlap(set(), {"tower"}, weights.get) == 0.0


def test_normalise_maps_scores_onto_unit_range():
    assert normalise([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert normalise([5.0, 5.0]) == [1.0, 1.0]
    assert normalise([]) == []


def test_best_window_holds_the_answer_and_its_neighbour():
    best = _read("How tall is the Bank of America Tower?")[0]
    # The sentence naming the tower and the one giving its height ("It has...") go together.
    assert best.text.startswith("The tallest building")
    assert best.text.endswith("includes 42 floors.")
    a, b = best.highlight
    assert best.text[a:b] == "617 ft"


def test_snippets_are_verbatim_with_article_offsets():
    snippets = _read("Which parks are along the river in Jacksonville?")
    assert snippets and "parks along the river" in snippets[0].text
    for snippet in snippets:
        assert TOWER[snippet.start : snippet.end] == snippet.text
        assert len(snippet.text) <= MAX_SNIPPET
        assert "\n\n" not in snippet.text  # a neighbour only from the same paragraph


def test_sentence_scoring_prefers_question_terms_and_kind():
    best = _read("When was the Bank of America Tower constructed?")[0]
    assert "constructed in 1990" in best.text
    a, b = best.highlight
    assert best.text[a:b] == "1990"
    assert _read("What does the port handle?")[0].text == "The port handles cars and containers."


def test_long_sentence_is_cut_around_the_answer():
    filler = "word " * 120
    text = f"{filler}and then the company raised $42 million from investors {filler}end."
    passages = _passages(text)
    reader = SnippetScorer(lambda term: 1.0)
    best = reader.mark(
        "how much did the company raise?",
        reader.snippets("how much did the company raise?", passages)[0],
    )
    assert len(best.text) <= MAX_SNIPPET and "$42 million" in best.text
    assert text[best.start : best.end] == best.text


def test_fit_keeps_short_windows_and_cuts_on_spaces():
    text = "alpha beta gamma " * 40
    assert fit(text, 0, 50, None) == (0, 50)
    lo, hi = fit(text, 0, len(text), (300, 310))
    assert hi - lo <= MAX_SNIPPET and lo <= 300 and hi >= 310
    assert text[lo - 1] == " " and text[hi] == " "
