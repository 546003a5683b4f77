"""The machine's cores, shared out among the questions being answered in every worker.

`qa serve` runs one gunicorn worker per core, each answering one question at a time with
one model thread: two questions at once keep both cores busy. A question answered alone
would leave the others idle; with this count it may take them (index/embedder/onnx_runner.py
ElasticSession). The count lives in shared memory made before gunicorn forks (--preload), so
every worker sees the others' questions; without a fork each process counts its own.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager


class CoreShare:
    """Count the questions being answered on this machine; say how many cores each may use."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = max(1, cores or os.cpu_count() or 1)
        self._answering = multiprocessing.Value("i", 0)  # shared memory, with its own lock

    @property
    def answering(self) -> int:
        """Return how many questions are being answered now, in every worker."""
        return self._answering.value

    @contextmanager
    def answer(self) -> Iterator[None]:
        """Count one question as being answered while the block runs."""
        with self._answering.get_lock():
            self._answering.value += 1
        try:
            yield
        finally:
            with self._answering.get_lock():
                self._answering.value -= 1

    def free(self) -> int:
        """Return the threads a model run may take now: the cores over the questions."""
        return max(1, self.cores // max(1, self._answering.value))
