"""Embedder backends side by side: batch throughput, one-question latency, cold start, memory.

Throughput runs every backend on the same real chunk texts, rounds interleaved so machine noise
hits all alike, with all cores (the `qa index` case); on a shared machine the best round (noise
only ever slows a round down) is the steadier estimate, the median is printed too. Question
latency uses one thread (the serving case: one thread per gunicorn worker). Cold start and RSS
come from a fresh process.

    .venv/bin/python -m bench.embed [--texts 64] [--rounds 6]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from bench.common import QUESTIONS, machine_note, percentiles, real_index, say, table
from index.embedder.runtime import BACKENDS, load_embedder
from index.store import load_index

COLD = """
import time, sys
started = time.perf_counter()
from index.embedder.runtime import load_embedder
e = load_embedder(backend=sys.argv[1], threads=1)
e.encode(["Who founded Stripe?"])
seconds = time.perf_counter() - started
status = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
print(seconds, int(status) / 1024, "torch" in sys.modules)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    say(f"# embedder backends ({machine_note()})")
    chunks = load_index(real_index()).chunks
    texts = [c.text for c in chunks[:: max(1, len(chunks) // args.texts)]][: args.texts]
    words = np.mean([len(t.split()) for t in texts])

    batch = {b: load_embedder(backend=b) for b in BACKENDS}  # all cores
    ref = batch["torch"].encode(texts)
    speed: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(args.rounds):
        for backend, embedder in batch.items():
            started = time.perf_counter()
            embedder.encode(texts)
            speed[backend].append(len(texts) / (time.perf_counter() - started))
    cosine = {b: float((e.encode(texts) * ref).sum(axis=1).min()) for b, e in batch.items()}
    del batch

    single = {b: load_embedder(backend=b, threads=1) for b in BACKENDS}
    latency: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for embedder in single.values():
        embedder.encode(QUESTIONS[:2])  # warm
    for _ in range(3):
        for question in QUESTIONS:
            for backend, embedder in single.items():
                started = time.perf_counter()
                embedder.encode([question])
                latency[backend].append(1000 * (time.perf_counter() - started))
    del single

    cold = {}
    for backend in BACKENDS:
        out = subprocess.run(
            [sys.executable, "-c", COLD, backend], capture_output=True, text=True, check=True
        ).stdout.split()
        cold[backend] = (float(out[0]), float(out[1]), out[2] == "True")

    torch_speed = float(np.median(speed["torch"]))
    torch_best = max(speed["torch"])
    rows = []
    for backend in BACKENDS:
        median = float(np.median(speed[backend]))
        best = max(speed[backend])
        p50, _, p99 = percentiles(latency[backend])
        seconds, rss, imports_torch = cold[backend]
        rows.append(
            [
                backend,
                median,
                median / torch_speed,
                best,
                best / torch_best,
                cosine[backend],
                p50,
                p99,
                seconds,
                rss,
                "yes" if imports_torch else "no",
            ]
        )
    table(
        f"embedder: {len(texts)} real chunks (~{words:.0f} words), {args.rounds} interleaved "
        "rounds; questions on 1 thread",
        [
            "backend",
            "chunks/s median",
            "x torch",
            "best round",
            "x torch",
            "min cos vs torch",
            "question p50 ms",
            "p99 ms",
            "cold start s",
            "RSS MiB",
            "imports torch",
        ],
        rows,
    )
    say(f"throughput per round: { {b: [round(x, 1) for x in v] for b, v in speed.items()} }")


if __name__ == "__main__":
    main()
