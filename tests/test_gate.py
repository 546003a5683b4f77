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
from web.gate import DelayWatch, Overloaded, QuestionGate


def _wait_until_full(gate: QuestionGate) -> None:
    """Wait until every place in line is taken (threads get there in their own time)."""
    deadline = time.monotonic() + 30
    while gate.inside < gate.limit and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.inside == gate.limit


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


class Clock:
    """A clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float = 0.0) -> None:
        self.now, self.step = 100.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_line_stands_once_every_wait_of_an_interval_was_over_the_target():
    watch = DelayWatch(target=0.1, interval=1.0)
    for now in (0.0, 0.5, 0.9):
        watch.observe(0.3, now)
    assert not watch.standing  # long waits, but for less than an interval: a burst
    watch.observe(0.3, 1.0)
    assert watch.standing
    watch.observe(0.3, 5.0)
    assert watch.standing
    watch.observe(0.05, 5.1)  # one question got its turn at once: the line drained
    assert not watch.standing
    watch.observe(0.3, 5.2)
    watch.observe(0.3, 6.1)  # a new run of long waits starts its own interval
    assert not watch.standing


def test_a_short_wait_inside_the_interval_starts_it_again():
    watch = DelayWatch(target=0.1, interval=1.0)
    watch.observe(0.3, 0.0)
    watch.observe(0.0, 0.6)
    watch.observe(0.3, 0.7)
    watch.observe(0.3, 1.5)
    assert not watch.standing
    watch.observe(0.3, 1.7)
    assert watch.standing


def test_while_the_line_stands_a_newcomer_is_refused_once_someone_waits():
    gate = QuestionGate(limit=4, wait=5.0, clock=Clock())
    assert gate.refusal() is None and gate.refusal(coming=3) is None
    assert "4 questions" in gate.refusal(coming=4)  # the ceiling, whatever the delay
    gate.delay.standing = True
    assert gate.refusal(coming=1) is None  # one answering, nobody waiting: a place
    assert "waited over 0.1 s" in gate.refusal(coming=2)  # one answering, one waiting
    gate.delay.standing = False
    assert gate.refusal(coming=2) is None  # back to the fixed limit


def test_the_gate_times_each_wait_with_its_clock_and_refuses_while_the_line_stands():
    clock = Clock(step=0.25)  # each question "waits" 0.25 s for its turn
    gate = QuestionGate(limit=4, wait=5.0, clock=clock)
    admitted = 0
    while not gate.delay.standing:
        with gate.admit():
            admitted += 1
        assert admitted < 10
    assert admitted > 1 and clock.now - 100.0 >= gate.delay.interval  # a burst is no line
    with gate.admit():  # it is let in, alone ...
        assert gate.delay.standing and gate.inside == 1
        assert "for their turn" in gate.refusal(coming=2)  # ... nobody may wait behind it
        assert gate.refusal() is None
    assert gate.inside == 0
    clock.step = 0.0  # the next question's turn comes at once: the line has drained
    with gate.admit():
        pass
    assert not gate.delay.standing and gate.refusal(coming=3) is None


def test_a_refusal_is_the_message_of_the_503(app, client):
    gate = app.extensions["newsqa.gate"] = QuestionGate(limit=1, wait=5.0)
    with gate.admit():
        response = client.post("/api/ask", json={"question": "Bird European expansion"})
        assert response.status_code == 503
        assert response.get_json()["error"] == {"code": "overloaded", "message": gate.refusal()}


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
