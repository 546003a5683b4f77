"""The reranking cascade: the first windows are scored, the rest only when none is sure."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from index.build import build
from qa.pipeline import Answerer


class CountingCrossEncoder:
    """A cross-encoder that gives every window the same logit and counts what it scored."""

    name = "counting"

    def __init__(self, logit: float) -> None:
        self.logit = logit
        self.calls: list[int] = []

    def score(self, question: str, passages) -> np.ndarray:  # noqa: ANN001
        self.calls.append(len(passages))
        return np.full(len(passages), self.logit, dtype=np.float32)


@pytest.fixture
def open_answerer(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)

    def opened(logit: float) -> tuple[Answerer, CountingCrossEncoder]:
        cross = CountingCrossEncoder(logit)
        answerer = Answerer.open(tmp_path / "ix", fake_embedder, reranker=cross, rerank=True)
        answerer.reranking.windows, answerer.reranking.sure_windows = 12, 4
        answerer.reranking.sure_score = 50.0
        return answerer, cross

    return opened


def test_sure_first_windows_leave_the_rest_unscored(open_answerer):
    answerer, cross = open_answerer(100.0)
    answer = answerer.ask("how much did Alibaba invest?", k=3)
    assert cross.calls == [4]
    assert len(answer.citations) == 3


def test_unsure_first_windows_score_the_rest_too(open_answerer):
    answerer, cross = open_answerer(0.0)
    answerer.ask("how much did Alibaba invest?", k=3)
    assert cross.calls[0] == 4 and len(cross.calls) == 2 and 4 < sum(cross.calls) <= 12


def test_k_citations_are_scored_first_whatever_the_cascade(open_answerer):
    answerer, cross = open_answerer(100.0)
    answer = answerer.ask("how much did Alibaba invest?", k=6)
    assert cross.calls == [6] and len(answer.citations) == 6


@pytest.mark.model
def test_a_pair_scores_the_same_whatever_is_scored_beside_it(reranker):
    from qa.cross_encoder import CrossEncoder

    question = "How much did Alibaba invest in the company?"
    passages = [
        "Alibaba invested US$200 million in the startup last year.",
        "The weather in Hangzhou was mild.",
        "Jack Ma sent a memo to staff about the reorganisation of the company, which now has "
        "twenty-five business units, each run by its own president.",
        "Funding rounds rose in 2014, and several investors, Alibaba among them, said more was to "
        "come for mobile start-ups in China and beyond.",
        "No.",
    ]
    alone = CrossEncoder(threads=1).score(question, passages)
    # Two lanes (two pairs at once), a subset, and another order: the very same logits.
    assert np.array_equal(CrossEncoder(free=lambda: 2).score(question, passages), alone)
    assert np.array_equal(reranker.score(question, passages[:2]), alone[:2])
    assert np.array_equal(reranker.score(question, passages[::-1]), alone[::-1])
    assert alone.argmax() == 0


class LengthSession:
    """An ONNX session stand-in: a pair's logit is its token count; it records each run."""

    def __init__(self) -> None:
        self.runs: list[int] = []
        self._lock = threading.Lock()

    def get_inputs(self) -> list:
        return [SimpleNamespace(name=n) for n in ("input_ids", "attention_mask", "token_type_ids")]

    def run(self, _names, feeds: dict) -> list[np.ndarray]:  # noqa: ANN001
        lengths = feeds["attention_mask"].sum(axis=1)
        with self._lock:
            self.runs.extend(lengths.tolist())
        time.sleep(0.001 * int(lengths.max()))  # a longer pair takes longer, as in the model
        return [lengths.astype(np.float32)[:, None]]


@pytest.mark.model
@pytest.mark.parametrize("lanes", [1, 2])
def test_the_longest_pairs_are_scored_first(lanes):
    from qa.cross_encoder import CrossEncoder

    # The lanes end together when each takes the next longest pair as it frees up.
    encoder = CrossEncoder(free=lambda: lanes)
    encoder._session = LengthSession()  # noqa: SLF001 - the run order is what is tested
    passages = [" ".join(["word"] * n) for n in (3, 40, 9, 25, 1, 60, 14)]
    logits = encoder.score("how long?", passages)
    tokens = [len(encoder._tokenizer.encode("how long?", p).ids) for p in passages]  # noqa: SLF001
    assert logits.tolist() == tokens  # every pair scored, its logit in its own place
    runs = encoder._session.runs  # noqa: SLF001
    assert sorted(runs) == sorted(tokens)
    assert set(runs[:lanes]) == set(sorted(tokens, reverse=True)[:lanes])
    if lanes == 1:
        assert runs == sorted(tokens, reverse=True)


@pytest.mark.model
def test_first_layer_products_run_on_float_inputs(reranker):
    import onnx

    from index.embedder.onnx_runner import session
    from qa.cross_encoder import FLOAT_PRODUCTS, model_dir
    from qa.float_products import float_products

    shipped = model_dir() / "model.onnx"
    graph, changed = float_products(shipped, FLOAT_PRODUCTS)
    ops = [n.op_type for n in onnx.load_from_string(graph).graph.node]
    before = [n.op_type for n in onnx.load(str(shipped)).graph.node]
    # Layer 0's six products (query, key, value, attention out, FFN in, FFN out) become float.
    assert changed == 6
    assert ops.count("MatMulInteger") == before.count("MatMulInteger") - 6
    everything, _ = float_products(shipped, ".")
    assert [n.op_type for n in onnx.load_from_string(everything).graph.node].count(
        "MatMulInteger"
    ) == 0
    # The same model either way: all-float logits stay near the served ones, in the same order.
    question = "How much did Alibaba invest in the company?"
    passages = [
        "Alibaba invested US$200 million in the startup last year.",
        "The weather in Hangzhou was mild.",
        "Funding rounds rose in 2014, and several investors, Alibaba among them, said more was to "
        "come for mobile start-ups in China and beyond.",
    ]
    served = reranker.score(question, passages)
    reranker_float = type(reranker)(threads=1)
    reranker_float._session = session(everything, 1, spin=False)  # noqa: SLF001
    floated = reranker_float.score(question, passages)
    assert np.abs(served - floated).max() < 0.5
    assert list(np.argsort(-served)) == list(np.argsort(-floated))
