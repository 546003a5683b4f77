"""Answers that know when: the whole pipeline with the timing stage vs without it, side by side.

One answerer over the default seeds plus the fictional series of eval/timeline (so that the
timeline questions really read their extra windows); each question is asked both ways in
turn, so machine noise falls on both alike. "before" runs the stages of commit dca82c6
(search, selection, reranking, extraction); "now" adds the timing stage (and reads the
question's period). The ratio of the medians is the figure (#20 asks <= 1.15).

    .venv/bin/python -m bench.timeline [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time

from bench.common import REPO, SEEDS, VAR, machine_note, percentiles, say, table
from bench.exact import QUESTIONS as NEWS  # time-neutral questions on the default seeds
from index.build import build
from index.embedder.runtime import load_embedder
from qa.pipeline import Answerer

TIMELINE = REPO / "eval" / "timeline"


def timeline_index():
    """Return an index of the seeds plus the eval/timeline series (built once, then reused)."""
    folder = VAR / "timeline-seeds"
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*SEEDS.iterdir(), *(TIMELINE / "articles").iterdir()]:
        shutil.copy(path, folder / path.name)
    index_dir = VAR / "timeline-index"
    build(folder, index_dir, load_embedder())
    return index_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    args = parser.parse_args()
    say(f"# answers that know when ({machine_note()})")
    answerer = Answerer.open(timeline_index(), load_embedder())
    answerer.ask("warm up every model", k=1)
    timed = [json.loads(line) for line in (TIMELINE / "questions.jsonl").open(encoding="utf-8")]
    asks = [(q, None) for q in NEWS] + [(q["question"], q.get("now")) for q in timed]
    stages = {"before: 4 stages": answerer.stages[:4], "now: + timing": answerer.stages}
    times: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(args.rounds):
        for question, now in asks:
            for name, chosen in stages.items():
                answerer.stages = chosen
                started = time.perf_counter()
                answerer.ask(question, now=now)
                times[name].append(1000 * (time.perf_counter() - started))
    rows = [(name, *(f"{x:.0f}" for x in percentiles(t))) for name, t in times.items()]
    table("ask latency, ms", ("pipeline", "p50", "p95", "p99"), rows)
    before, now = (percentiles(t)[0] for t in times.values())
    say(f"p50 ratio now / before: {now / before:.3f} ({len(times[name])} asks each)")


if __name__ == "__main__":
    main()
