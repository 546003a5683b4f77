"""The whole pipeline with the span reader vs hybrid + rerank before it: latency, side by side.

One answerer, the default corpus (bench/common.py real_index), the same questions asked three
ways in turn, so machine noise falls on all alike: as before issue #13 (the cross-encoder on
16 snippets, no reader), today's default (RERANK_WINDOWS = 12 snippets, then the reader), and
16 snippets then the reader (what the reader alone costs). The ratio of the medians to before
is the figure (#13 asks <= 1.0).

    .venv/bin/python -m bench.exact [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

from bench.common import machine_note, percentiles, real_index, say, table
from index.embedder.runtime import load_embedder
from qa.pipeline import Answerer
from qa.stages.reranking import RERANK_WINDOWS

BEFORE_WINDOWS = 16  # what the cross-encoder rescored before the reader (commit 5e91d8e)
CONFIGS = {  # name: (snippets reranked, reader on)
    f"before #13: rerank {BEFORE_WINDOWS}, no reader": (BEFORE_WINDOWS, False),
    f"now: rerank {RERANK_WINDOWS} + reader": (RERANK_WINDOWS, True),
    f"rerank {BEFORE_WINDOWS} + reader": (BEFORE_WINDOWS, True),
}

QUESTIONS = [
    "how much did Alibaba invest?",
    "who is the CEO of Alibaba?",
    "when did Jack Ma send the memo?",
    "Which company did Cruise acquire?",
    "How much will Bird spend on its European expansion?",
    "What is Stripe valued at?",
    "who leads the Aliyun OS business?",
    "what happened to bitcoin prices",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()
    say(f"# exact answers ({machine_note()})")
    answerer = Answerer.open(real_index(), load_embedder())
    answerer.ask("warm up every model", k=1)
    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.rounds):
        for question in QUESTIONS:
            for name, (windows, read) in CONFIGS.items():
                answerer.reranking.windows = windows
                started = time.perf_counter()
                answerer.ask(question, read=read)
                times[name].append(1000 * (time.perf_counter() - started))
    rows = [(name, *(f"{x:.0f}" for x in percentiles(t))) for name, t in times.items()]
    table("ask latency, ms", ("pipeline", "p50", "p95", "p99"), rows)
    before, now, more = (percentiles(t)[0] for t in times.values())
    say(
        f"p50 ratio to before #13: now {now / before:.3f}, rerank {BEFORE_WINDOWS} + reader "
        f"{more / before:.3f} ({len(times[name])} asks each)"
    )


if __name__ == "__main__":
    main()
