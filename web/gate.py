"""Load shedding: a bounded number of questions per worker, and a fast 503 past it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from web.metrics import QUEUE_WAIT, SHED

RETRY_AFTER = 2  # seconds a refused client is asked to wait before trying again


class Overloaded(Exception):
    """Too many questions are in flight already; the HTTP edge answers 503 with Retry-After."""


class QuestionGate:
    """Answer one question at a time; let at most `limit` be in flight or waiting their turn.

    Answering is CPU-bound and a worker has about one core, so questions answered side by
    side only slow each other down: they take turns. Past `limit` questions, or after `wait`
    seconds in line, a question is refused at once, so a crowd gets fast 503s instead of
    answers that arrive ever later, and the worker's other threads stay free for /healthz.
    """

    def __init__(self, limit: int, wait: float) -> None:
        if limit < 1:
            raise ValueError(f"the question queue limit must be at least 1, not {limit}")
        self.limit = limit
        self.wait = wait
        self._places = threading.BoundedSemaphore(limit)
        self._turn = threading.Lock()

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place in line and then the turn to answer; raise Overloaded if there is none."""
        started = time.perf_counter()
        if not self._places.acquire(blocking=False):
            SHED.inc()
            raise Overloaded(
                f"the server is answering {self.limit} questions already; "
                f"try again in {RETRY_AFTER} s"
            )
        try:
            if not self._turn.acquire(timeout=self.wait):
                SHED.inc()
                raise Overloaded(
                    f"the server is busy: no turn to answer within {self.wait:g} s; "
                    f"try again in {RETRY_AFTER} s"
                )
            QUEUE_WAIT.observe(time.perf_counter() - started)
            try:
                yield
            finally:
                self._turn.release()
        finally:
            self._places.release()
