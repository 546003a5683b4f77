"""The whole pipeline with the span reader vs today's hybrid + rerank: latency, side by side.

One answerer, the default corpus (bench/common.py real_index), the same questions asked both
ways in turn (reader off, reader on), so machine noise falls on both alike; the ratio of the
medians is the figure (issue #13 asks for <= 1.0).

    .venv/bin/python -m bench.exact [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

from bench.common import machine_note, percentiles, real_index, say, table
from index.embedding import load_embedder
from qa.pipeline import Answerer

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
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for question in QUESTIONS:
            for read in (False, True):
                started = time.perf_counter()
                answerer.ask(question, read=read)
                times[read].append(1000 * (time.perf_counter() - started))
    rows = [
        ("hybrid+rerank (reader off)", *(f"{x:.0f}" for x in percentiles(times[False]))),
        ("hybrid+rerank+reader", *(f"{x:.0f}" for x in percentiles(times[True]))),
    ]
    table("ask latency, ms", ("pipeline", "p50", "p95", "p99"), rows)
    ratio = percentiles(times[True])[0] / percentiles(times[False])[0]
    say(f"p50 ratio reader on / off: {ratio:.3f} ({len(times[True])} asks each)")


if __name__ == "__main__":
    main()
