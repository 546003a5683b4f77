"""Load shedding: a bounded number of questions per worker, and a fast 503 past it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from web.metrics import QUEUE_WAIT, SHED

RETRY_AFTER = 2  # seconds a refused client is asked to wait before trying again
_AGAIN = f"try again in {RETRY_AFTER} s"
TARGET = 0.1  # seconds of queue wait that are fine: a burst absorbed, not a standing line
INTERVAL = 1.0  # seconds every wait must stay above TARGET before the line counts as standing


class Overloaded(Exception):
    """Too many questions are in flight already; the HTTP edge answers 503 with Retry-After."""


class DelayWatch:
    """CoDel's signal: the line stands once every wait for a turn over INTERVAL was over TARGET.

    A full queue says nothing about delay: 4 places of 0.3 s answers mean a second in line for
    every question of a storm, while polite clients never fill it. The minimum wait does: a
    burst drains and some question gets its turn quickly; only a line that never drains keeps
    every wait long. One short wait ends the standing state, so it cannot outlive the load.
    Pure: the caller passes each wait and the time it was seen.
    """

    def __init__(self, target: float = TARGET, interval: float = INTERVAL) -> None:
        self.target, self.interval = target, interval
        self.standing = False
        self._above_since: float | None = None  # when the current run of long waits began

    def observe(self, wait: float, now: float) -> None:
        """Take one question's wait for its turn (seconds), seen at `now`."""
        if wait < self.target:
            self._above_since, self.standing = None, False
        elif self._above_since is None:
            self._above_since = now
        elif now - self._above_since >= self.interval:
            self.standing = True


class QuestionGate:
    """Answer one question at a time; let at most `limit` be in flight or waiting their turn.

    Answering is CPU-bound and a worker has about one core, so questions answered side by
    side only slow each other down: they take turns. Past `limit` questions, or after `wait`
    seconds in line, a question is refused at once, so a crowd gets fast 503s instead of
    answers that arrive ever later, and the worker's other threads stay free for /healthz.
    While the line stands (DelayWatch), a newcomer is refused as soon as one question already
    waits behind the one answering: that one keeps the worker busy when the answer ends, and
    more would only wait longer. `limit` stays the ceiling either way.
    """

    def __init__(
        self,
        limit: int,
        wait: float,
        *,
        delay: DelayWatch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError(f"the question queue limit must be at least 1, not {limit}")
        self.limit, self.wait, self.clock = limit, wait, clock
        self.delay = delay or DelayWatch()
        self.inside = 0  # questions answering or waiting their turn
        self._lock = threading.Lock()  # guards inside and delay
        self._turn = threading.Lock()

    def refusal(self, coming: int = 0) -> str | None:
        """Return why a question arriving now would be refused, or None if it has a place.

        Reads without locking or waiting (the worker's main loop asks it for every question).
        `coming`: questions known to be on their way in (the worker's count, which includes
        those inside): the line is taken to be at least that long.
        """
        line = max(self.inside, coming)
        if line >= self.limit:
            return f"the server is answering {self.limit} questions already; {_AGAIN}"
        if line >= 2 and self.delay.standing:
            return (
                f"questions have waited over {self.delay.target:g} s for their turn here for "
                f"{self.delay.interval:g} s; {_AGAIN}"
            )
        return None

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place in line and then the turn to answer; raise Overloaded if there is none."""
        started = self.clock()
        with self._lock:
            refused = self.refusal()
            if refused is None:
                self.inside += 1
        if refused is not None:
            SHED.inc()
            raise Overloaded(refused)
        try:
            if not self._turn.acquire(timeout=self.wait):
                self._waited(self.wait, self.clock())
                SHED.inc()
                raise Overloaded(
                    f"the server is busy: no turn to answer within {self.wait:g} s; {_AGAIN}"
                )
            turn = self.clock()
            QUEUE_WAIT.observe(self._waited(turn - started, turn))
            try:
                yield
            finally:
                self._turn.release()
        finally:
            with self._lock:
                self.inside -= 1

    def _waited(self, seconds: float, now: float) -> float:
        with self._lock:
            self.delay.observe(seconds, now)
        return seconds
