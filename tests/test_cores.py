"""A question answered alone may take every core; two at once (two workers) one core each."""

from __future__ import annotations

import multiprocessing

import pytest

from index.embedder.onnx_runner import ElasticSession
from web.cores import CoreShare


class FakeSession:
    """A session that says how many threads it was opened with."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def get_inputs(self) -> list:
        return ["input_ids"]

    def run(self, outputs, feeds) -> list:
        return [self.threads]


def _elastic(free, most: int = 2) -> tuple[ElasticSession, list[int]]:
    opened: list[int] = []

    def opener(graph, n):
        opened.append(n)
        return FakeSession(n)

    return ElasticSession("model.onnx", most, free, opener), opened


def test_a_run_takes_the_threads_free_now_and_opens_each_session_once():
    free = [1]
    elastic, opened = _elastic(lambda: free[0])
    assert opened == [1] and elastic.run(None, {}) == [1]  # the preloaded one-thread session
    free[0] = 2
    assert elastic.run(None, {}) == [2] and elastic.run(None, {}) == [2]
    free[0] = 8  # never more than `most`
    assert elastic.run(None, {}) == [2]
    free[0] = 1
    assert elastic.run(None, {}) == [1] and opened == [1, 2]
    assert elastic.get_inputs() == ["input_ids"]


def _answer_in_child(share: CoreShare, inside, leave) -> None:
    with share.answer():
        inside.set()
        leave.wait(10)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="fork")
def test_the_count_is_shared_by_forked_workers():
    share = CoreShare(cores=2)
    assert share.answering == 0 and share.free() == 2  # alone: both cores
    fork = multiprocessing.get_context("fork")
    inside, leave = fork.Event(), fork.Event()
    child = fork.Process(target=_answer_in_child, args=(share, inside, leave))
    child.start()
    try:
        assert inside.wait(10)
        with share.answer():  # this "worker" answers too: one core each
            assert share.answering == 2 and share.free() == 1
        assert share.answering == 1 and share.free() == 2
    finally:
        leave.set()
        child.join(10)
    assert share.answering == 0


def test_an_api_question_counts_while_it_is_answered(app, client):
    cores = app.extensions["newsqa.cores"]
    seen = []
    answerer = app.extensions["newsqa.index"].snapshot().answerer
    ask = answerer.ask

    def counting(*args, **kwargs):
        seen.append(cores.answering)
        return ask(*args, **kwargs)

    answerer.ask = counting
    assert client.post("/api/ask", json={"question": "Bird European expansion"}).status_code == 200
    assert seen == [1] and cores.answering == 0


@pytest.mark.model
def test_the_span_reader_finds_the_same_words_on_one_thread_or_two():
    from qa.span_reader import SpanReader

    free = [1]
    reader = SpanReader(threads=2, free=lambda: free[0])
    question = "How much will Bird spend on its European expansion?"
    passage = "Bird said it will spend $150 million on its European expansion next year."
    one = [(s.start, s.end, s.text) for s in reader.spans(question, [passage])[0]]
    free[0] = 2
    two = [(s.start, s.end, s.text) for s in reader.spans(question, [passage])[0]]
    assert one == two and one and "$150 million" in one[0][2]


@pytest.mark.model
def test_preloaded_models_take_the_free_cores(web_index, fake_embedder):
    from web.live_index import LiveIndex

    share = CoreShare(cores=2)
    options = {"threads": 1, "rerank": True, "read": True}
    live = LiveIndex(
        web_index, lambda: fake_embedder, model=fake_embedder.name, options=options, free=share.free
    )
    live.preload()
    reader = live.options["span_reader"]
    assert isinstance(reader._session, ElasticSession)
    alone = reader._session.current()  # nothing else answered: both cores, a second session
    with share.answer(), share.answer():
        assert reader._session.current() is not alone  # two questions: the one-thread one
    # The cross-encoder takes the free cores as lanes: pairs scored side by side.
    reranker = live.options["reranker"]
    assert reranker.lanes() == 2
    with share.answer(), share.answer():
        assert reranker.lanes() == 1
