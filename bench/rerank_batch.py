"""Cross-encoder pairs per run: time and score drift of batching vs one pair per run.

int8 activations are quantised per run (over the whole padded batch), so a pair's score
depends on the pairs batched with it. This scores 12 real chunks of the default corpus at a
time, 40 times, one pair per run, 8 per run and 12 per run, interleaved (1 thread).

    .venv/bin/python -m bench.rerank_batch
"""

from __future__ import annotations

import time

import numpy as np

import qa.cross_encoder as ce
from bench.common import machine_note, percentiles, real_index, say, table
from index.store import load_index

QUESTION = "how much did Alibaba invest in the company?"
SIZES = (1, 8, 12)


def main() -> None:
    texts = [c.text for c in load_index(real_index()).chunks]
    model = ce.CrossEncoder(threads=1)
    say(f"# cross-encoder pairs per run ({machine_note()})")
    times: dict[int, list[float]] = {b: [] for b in SIZES}
    scores: dict[int, list[np.ndarray]] = {b: [] for b in SIZES}
    for r in range(40):
        passages = texts[r * 12 : (r + 1) * 12]
        for b in SIZES:
            ce.BATCH = b  # the module constant CrossEncoder.score reads
            started = time.perf_counter()
            scores[b].append(model.score(QUESTION, passages))
            times[b].append(1000 * (time.perf_counter() - started))
    one = np.concatenate(scores[1])
    rows = []
    for b in SIZES:
        drift = np.abs(np.concatenate(scores[b]) - one)
        rows.append((b, *(f"{x:.0f}" for x in percentiles(times[b])), f"{drift.mean():.3f}",
                     f"{drift.max():.3f}"))  # fmt: skip
    table("12 pairs scored", ("pairs/run", "p50 ms", "p95 ms", "p99 ms", "mean |drift|",
                              "max |drift|"), rows)  # fmt: skip


if __name__ == "__main__":
    main()
