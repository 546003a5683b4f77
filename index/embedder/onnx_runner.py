"""Run an ONNX graph over tokenised texts on the CPU: length-sorted, padded batches.

The embedder, the cross-encoder and the span reader all feed BERT-shaped graphs the same way;
this is the one place that does it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np


def session(graph: Path | bytes, threads: int = 0, *, spin: bool = True):
    """Open an ONNX Runtime session on the CPU with `threads` intra-op threads (0: every core);
    `graph` is a file or a serialised model.

    spin=False stops idle threads from spinning: on a busy 2-core machine they steal the CPU
    the other models and workers need (it made reranking ~25% slower there).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = graph if isinstance(graph, bytes) else str(graph)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


class ElasticSession:
    """One graph run with as many threads as are free now: a session per thread count.

    A serving worker answers one question at a time on one model thread, so that two questions
    at once keep both cores busy; but then a lone question leaves the other core idle. `free()`
    says how many threads a run may take now (web/cores.py: the cores over the questions being
    answered in every worker). The one-thread session is opened at once (before gunicorn's fork
    it starts no thread pool, so the workers share it); the others on first use, in the worker
    (a thread pool does not survive a fork), each with its own copy of the weights.
    """

    def __init__(
        self, graph: Path, most: int, free: Callable[[], int], opener: Callable | None = None
    ) -> None:
        self._graph, self._most, self._free = graph, max(1, most), free
        self._open = opener or (lambda path, n: session(path, n, spin=False))
        self._sessions = {1: self._open(graph, 1)}
        self._lock = threading.Lock()

    def current(self):
        """Return the session for the threads free now (opened on first use)."""
        n = max(1, min(self._most, self._free()))
        found = self._sessions.get(n)
        if found is None:
            with self._lock:
                found = self._sessions.get(n) or self._sessions.setdefault(
                    n, self._open(self._graph, n)
                )
        return found

    def get_inputs(self) -> list:
        """Return the graph's inputs (the same for every session)."""
        return self._sessions[1].get_inputs()

    def run(self, outputs, feeds: dict) -> list[np.ndarray]:  # noqa: ANN001 - as ONNX Runtime's
        """Run one batch on the session for the threads free now."""
        return self.current().run(outputs, feeds)


def open_session(graph: Path, threads: int, free: Callable[[], int] | None = None, most: int = 4):
    """Open a fixed session of `threads` threads, or with `free` an elastic one (up to `most`
    threads, never more than the cores: past 4, threads gain nothing on inputs this short)."""
    if free is None:
        return session(graph, threads, spin=False)
    return ElasticSession(graph, min(most, os.cpu_count() or 1), free)


def batches(
    sess, encodings: Sequence, size: int, tie: Sequence | None = None
) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """Yield (positions, outputs) for batches of encodings of similar length.

    Sorting by length wastes little padding; `tie` (default: the position) breaks ties, so a
    caller can make results independent of the order its texts came in.
    """
    order = sorted(
        range(len(encodings)), key=lambda i: (len(encodings[i].ids), tie[i] if tie else i)
    )
    names = {i.name for i in sess.get_inputs()}
    for lo in range(0, len(order), size):
        part = order[lo : lo + size]
        width = max(len(encodings[i].ids) for i in part)
        ids = np.zeros((len(part), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for n, i in enumerate(part):
            enc = encodings[i]
            ids[n, : len(enc.ids)] = enc.ids
            mask[n, : len(enc.ids)] = 1
            types[n, : len(enc.ids)] = enc.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        yield part, sess.run(None, {k: v for k, v in feeds.items() if k in names})
