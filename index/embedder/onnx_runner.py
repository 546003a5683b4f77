"""Run an ONNX graph over tokenised texts on the CPU: length-sorted, padded batches.

The embedder, the cross-encoder and the span reader all feed BERT-shaped graphs the same way;
this is the one place that does it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np


def session(graph: Path, threads: int = 0, *, spin: bool = True):
    """Open an ONNX Runtime session on the CPU with `threads` intra-op threads (0: every core).

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
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


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
