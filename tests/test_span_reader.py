"""The span reader: its data preparation (fast) and the shipped ONNX model (marked model)."""

from __future__ import annotations

import os

import pytest

from qa.evaluation.metrics import exact_scores
from qa.evaluation.squad import (
    SQUAD_DEV,
    VALIDATION_ARTICLES,
    Example,
    load_examples,
    locate_answer,
    question_counts,
    split_articles,
    split_examples,
)


def _require_shared(path) -> None:
    """Missing shared data (the shared/ folder beside the repo): fail in CI, else skip loudly."""
    if path.is_file():
        return
    missing = path.parent if not path.parent.is_dir() else path
    message = f"shared data missing: {missing} not found (shared/eval/squad-dev beside the repo)"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


def _example(article: str, n: int = 0) -> Example:
    return Example(f"{article}-{n}", "q?", "a b c", ("b",), 2, "b", article)


def test_locate_answer_first_occurrence_then_fallback() -> None:
    paragraph = "In 1999 the band moved to Paris; in 2001 they left Paris."
    assert locate_answer(paragraph, ["Paris"]) == (26, "Paris")
    assert locate_answer(paragraph, ["London", "2001"]) == (36, "2001")
    assert locate_answer(paragraph, ["London", " "]) is None


def test_split_is_disjoint_seeded_and_big_enough() -> None:
    counts = {f"a{i}.txt": 10 + i for i in range(20)}
    validation = split_articles(counts, seed=1, share=0.2)
    assert validation == split_articles(counts, seed=1, share=0.2)
    assert sum(counts[a] for a in validation) >= 0.2 * sum(counts.values())
    examples = [_example(a, n) for a, c in counts.items() for n in range(c)]
    train, valid = split_examples(examples, validation)
    assert len(train) + len(valid) == len(examples)
    assert not {e.article for e in train} & {e.article for e in valid}
    assert {e.article for e in valid} == set(validation)


def test_validation_articles_are_a_fixed_non_empty_list() -> None:
    assert VALIDATION_ARTICLES
    assert list(VALIDATION_ARTICLES) == sorted(set(VALIDATION_ARTICLES))


def test_squad_dev_answers_are_located_and_the_split_is_frozen() -> None:
    _require_shared(SQUAD_DEV / "questions.jsonl")
    examples, dropped = load_examples(SQUAD_DEV)
    assert len(examples) > 5000 and not dropped
    for e in examples[::97]:
        assert e.context[e.answer_start :].startswith(e.answer_text)
    assert split_articles(question_counts(examples)) == VALIDATION_ARTICLES


def test_squad_metrics() -> None:
    assert exact_scores("The Denver Broncos!", ["Denver Broncos"]) == (1.0, 1.0)
    assert exact_scores("Denver", ["Denver Broncos"]) == pytest.approx((0.0, 2 / 3))
    assert exact_scores("Carolina", ["Denver Broncos"]) == (0.0, 0.0)


@pytest.fixture(scope="module")
def reader():
    from qa.span_reader import SpanReader

    return SpanReader(threads=1)


@pytest.mark.model
def test_finds_the_amount(reader) -> None:
    passage = "Alibaba invested US$200 million in the venture last year."
    [[best, *_]] = reader.spans("how much did Alibaba invest?", [passage])
    assert "US$200 million" in best.text
    assert passage[best.start : best.end] == best.text
    assert 0.0 < best.probability <= 1.0


@pytest.mark.model
def test_offsets_map_back_verbatim_in_every_passage(reader) -> None:
    passages = [
        "The Broncos beat the Carolina Panthers 24–10 at Levi's Stadium in Santa Clara.",
        "Zürich-based Nestlé said on Tuesday it would cut 4,000 jobs by 2027.",
        "  Short.  ",
        # Longer than one window: the answer sits in the last one.
        " ".join(["Filler words about nothing in particular."] * 60)
        + " The company was founded by Jack Ma in Hangzhou in 1999.",
    ]
    results = reader.spans("Who founded the company?", passages, top=3)
    assert len(results) == len(passages)
    for passage, spans in zip(passages, results, strict=True):
        assert len(spans) <= 3
        assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
        for span in spans:
            assert passage[span.start : span.end] == span.text
            assert span.text == span.text.strip(" .,")
    assert "Jack Ma" in results[3][0].text


@pytest.mark.model
def test_fewer_spans_asked_are_the_best_of_more(reader) -> None:
    # Each window stops widening candidates once it has `top` distinct spans: asking for fewer
    # must give the same leading spans, all distinct, as asking for many.
    passages = [
        "Alibaba invested US$200 million in the venture, and Tencent US$50 million, in 2012.",
        " ".join(["Filler words about nothing in particular."] * 60)
        + " Alibaba then invested another US$80 million.",
    ]
    question = "how much did Alibaba invest?"
    many = reader.spans(question, passages, top=10)
    for top in (1, 3):
        assert reader.spans(question, passages, top=top) == [s[:top] for s in many]
    for spans in many:
        assert len(spans) > 3
        assert len({(s.start, s.end) for s in spans}) == len(spans)


@pytest.mark.model
def test_order_of_passages_does_not_change_results(reader) -> None:
    passages = ["Paris is the capital of France.", "Berlin is the capital of Germany."]
    forward = reader.spans("What is the capital?", passages)
    backward = reader.spans("What is the capital?", passages[::-1])
    assert forward == backward[::-1]


@pytest.mark.model
def test_odd_inputs_do_not_raise(reader) -> None:
    passage = "Alibaba invested US$200 million in the venture last year."
    long_question = "how much did Alibaba invest " * 40
    assert len(long_question) >= 1000
    assert len(reader.spans(long_question[:1000], [passage])[0]) >= 1
    assert len(reader.spans("阿里巴巴投资了多少钱？", [passage, "阿里巴巴投资了两亿美元。"])) == 2
    assert reader.spans("", [passage])
    assert reader.spans("how much?", [""]) == [[]]
    assert reader.spans("how much?", []) == []
