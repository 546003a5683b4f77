"""`qa eval`: answer matching, abstention calibration, and one run over every variant."""

from __future__ import annotations

import json

import pytest

from qa.answer import Answer, Citation
from qa.evaluation.run import (
    abstention,
    calibrate,
    contains,
    first_hit,
    format_table,
    highlight_hit,
    load_off_topic,
    load_questions,
    normalize,
    score,
)
from qa.pipeline import Answerer


def _answer(*snippets: str, highlight=None) -> Answer:
    cites = tuple(
        Citation(s, "t", None, "a", "u", 1.0, 0, len(s), highlight if i == 0 else None, "x", "x#0")
        for i, s in enumerate(snippets)
    )
    return Answer("q", snippets[0] if snippets else None, cites)


def test_normalize_and_whole_word_matching():
    assert normalize("The U.S. paid US$1,000,000 (1277–1347)!") == "u s paid us 1 000 000 1277 1347"
    assert contains(normalize("Wei Yilin (1277–1347)"), normalize("1347"))
    assert not contains(normalize("in 2017 it grew"), normalize("17"))


def test_hits_and_highlight():
    answer = _answer("Cruise bought it.", "Cruise acquired Voyage in 2021.", highlight=(0, 6))
    assert first_hit(answer, ["Voyage"]) == 2
    assert first_hit(answer, ["Waymo"]) is None
    assert highlight_hit(answer, ["Cruise"]) and highlight_hit(answer, ["Cruise LLC"])
    assert not highlight_hit(answer, ["Voyage"])
    assert not highlight_hit(_answer("no highlight"), ["no"])


def test_calibrate_splits_in_the_middle_of_the_gap():
    assert calibrate([1.0, 2.0, 3.0], [-1.0, 0.0]) == 0.5
    figures = abstention([1.0, 2.0, -0.5], [-1.0, 0.0, 5.0], threshold=0.5)
    assert figures["recall"] == pytest.approx(2 / 3)
    assert figures["precision"] == pytest.approx(2 / 3)  # one answerable question refused
    assert figures["answered"] == pytest.approx(2 / 3)


def test_bundled_off_topic_questions():
    questions = load_off_topic()
    assert len(questions) >= 50 and "What is the capital of Mars?" in questions
    assert not any(q.startswith("#") for q in questions)


@pytest.fixture
def eval_dir(tmp_path, tiny_seeds):
    (tmp_path / "data").mkdir()
    tiny_seeds.rename(tmp_path / "data" / "articles")
    rows = [
        {
            "question": "How much will Bird spend on its European expansion?",
            "answers": ["$150 million"],
        },
        {"question": "Which startup did Cruise acquire?", "answers": ["Voyage"]},
        {"question": "How much did Alibaba invest in Aliyun?", "answers": ["US$200 million"]},
    ]
    (tmp_path / "data" / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "data"


def test_one_run_scores_every_variant(eval_dir, tmp_path, fake_embedder):
    from index.build import build

    build(eval_dir / "articles", tmp_path / "ix", fake_embedder)
    answerer = Answerer.open(tmp_path / "ix", fake_embedder, rerank=False, read=False)
    questions = load_questions(eval_dir)
    assert len(load_questions(eval_dir, limit=2)) == 2
    variants = (("bm25", "bm25", False), ("dense", "dense", False), ("hybrid", "hybrid", False))
    results = score(answerer, questions, ["What is the capital of Mars?"], variants)
    assert set(results) == {"bm25", "dense", "hybrid"}
    for r in results.values():
        assert r["questions"] == 3 and 0 <= r["hit@1"] <= r["hit@5"] <= 1
        assert "abstention" not in r  # no threshold is calibrated for the fake embedder
    assert results["bm25"]["hit@5"] == 1.0  # every answer shares its words with its question
    results["hybrid"]["abstention"] = abstention([1.0, 2.0], [-1.0], 0.5)
    table = format_table({"data": str(eval_dir), "variants": results})
    assert table.splitlines()[0].split()[:4] == ["variant", "n", "hit@1", "hit@5"]
    assert table.splitlines()[0].split()[-4:] == ["EM", "F1", "p50", "ms"]
    # three variants, the by-type table of the last one, then the abstention line
    kinds = results["hybrid"]["by_type"]
    assert {k: t["questions"] for k, t in kinds.items()} == {"money": 2, "organization": 1}
    assert len(table.splitlines()) == 2 + 3 + 3 + len(kinds) + 2
    for r in results.values():  # the rules' highlight is the exact answer without the reader
        assert 0 <= r["exact_em"] <= r["exact_f1"] <= 1
    assert "abstention (hybrid): threshold 0.5, precision 1.000, recall 1.000" in table
