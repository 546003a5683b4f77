"""Whole answers kept per index generation: a chat asks the same questions again and again.

An Answerer serves one generation, so its cache never outlives the index that made its
answers; a rebuild brings a new Answerer and an empty cache. The key is the whole request
and the day it is asked on (a question about "last year" means another year tomorrow).
Answers are frozen dataclasses, so sharing one between callers is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

from qa.answer import Answer
from qa.query import Request

ANSWERS = 512  # answers kept per generation (a few MB at most: snippets and metadata)


class AnswerCache:
    """A small thread-safe LRU of answers by (request, day)."""

    def __init__(self, size: int = ANSWERS) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[Request, date], Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def key(request: Request) -> tuple[Request, date] | None:
        """Return the request's key, or None for one never cached (--explain times itself)."""
        return None if request.explain else (request, request.day)

    def get(self, request: Request) -> Answer | None:
        """Return the answer given to this request today, if it is still kept."""
        key = self.key(request)
        with self._lock:
            answer = self._answers.get(key) if key is not None else None
            if answer is not None:
                self._answers.move_to_end(key)
                self.hits += 1
            return answer

    def put(self, request: Request, answer: Answer) -> None:
        """Keep an answer, dropping the least recently asked past `size`."""
        key = self.key(request)
        if key is None or self.size <= 0:
            return
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
