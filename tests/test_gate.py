"""Load shedding: a bounded queue of questions per worker, fast 503s past it, /healthz free."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from urllib.error import HTTPError

import pytest

from qa.pipeline import Answerer
from web import create_app
from web.gate import Overloaded, QuestionGate


def _wait_until_full(gate: QuestionGate) -> None:
    """Wait until every place in line is taken (threads get there in their own time)."""
    deadline = time.monotonic() + 30
    while gate._places._value and time.monotonic() < deadline:  # BoundedSemaphore's count
        time.sleep(0.01)
    assert not gate._places._value


def test_the_gate_admits_up_to_its_limit_one_at_a_time():
    gate = QuestionGate(limit=2, wait=5.0)
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with gate.admit():
            order.append("first")
            inside.set()
            release.wait(10)

    def second() -> None:
        with gate.admit():  # waits its turn behind the first
            order.append("second")

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert inside.wait(10)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    _wait_until_full(gate)
    with pytest.raises(Overloaded, match="2 questions"), gate.admit():
        pass  # a third has no place
    release.set()
    for t in threads:
        t.join(10)
    assert order == ["first", "second"]
    with gate.admit():  # places are given back
        pass


def test_a_question_waiting_too_long_for_its_turn_is_refused():
    gate = QuestionGate(limit=3, wait=0.2)
    release = threading.Event()
    inside = threading.Event()

    def hold() -> None:
        with gate.admit():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    with pytest.raises(Overloaded, match="no turn"), gate.admit():
        pass
    release.set()
    holder.join(10)


def test_the_limit_must_be_positive():
    with pytest.raises(ValueError):
        QuestionGate(limit=0, wait=1.0)


def test_the_limit_comes_from_the_environment(monkeypatch, web_index, fake_embedder):
    monkeypatch.setenv("NEWSQA_MAX_QUEUE", "7")
    app = create_app({"INDEX_DIR": str(web_index), "READ": False}, embedder=fake_embedder)
    assert app.extensions["newsqa.gate"].limit == 7


class Blocked(Answerer):
    """Answers only when the test says so, counting who is inside."""

    started: threading.Semaphore
    release: threading.Event

    def ask(self, *args, **kwargs):
        self.started.release()
        assert self.release.wait(30)
        return super().ask(*args, **kwargs)


def _post(url: str, timeout: float = 30) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"question": "Bird European expansion"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_past_the_queue_questions_get_a_fast_503_and_healthz_still_answers(
    web_index, fake_embedder, serve
):
    answerer = Blocked.open(web_index, fake_embedder, rerank=False, read=False)
    answerer.started, answerer.release = threading.Semaphore(0), threading.Event()
    app = create_app({"MAX_QUEUE": 3, "QUEUE_WAIT": 60.0}, answerer=answerer)
    base = serve(app)
    results: list[tuple[int, dict, dict]] = []
    threads = [
        threading.Thread(target=lambda: results.append(_post(f"{base}/api/ask"))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    assert answerer.started.acquire(timeout=30)  # one is answering, two wait their turn
    _wait_until_full(app.extensions["newsqa.gate"])
    # The queue is full: the next questions are refused at once, with Retry-After.
    for _ in range(2):
        status, headers, body = _post(f"{base}/api/ask", timeout=10)
        assert status == 503 and body["error"]["code"] == "overloaded"
        assert int(headers["Retry-After"]) >= 1
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:  # not behind them
        assert response.status == 200
    answerer.release.set()
    for t in threads:
        t.join(30)
    assert sorted(r[0] for r in results) == [200, 200, 200]
