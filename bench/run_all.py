"""Run every benchmark in turn (`make bench`), each in its own process, and time the whole.

Cached synthetic indexes live in var/bench/: the first run builds them (the 1M-chunk IVF
index takes minutes), later runs reuse them. bench/rebuild.py (10k chunks embedded with torch)
is not part of this run: it alone takes longer than the whole budget on 2 cores; nor is
bench/milvus.py (Milvus Lite vs FAISS, docs/scale-out.md), 1-3 minutes more.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import REPO, machine_note, say

STEPS = [
    ["bench.embed"],
    ["bench.ingest"],
    ["bench.vector_index"],
    ["bench.serve"],
    ["bench.reader"],
]


def main() -> None:
    started = time.perf_counter()
    say(f"# make bench ({machine_note()})")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    failed = []
    for step in STEPS:
        t = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", *step], cwd=REPO, env=env)
        say(f"\n[{step[0]}: {time.perf_counter() - t:.0f} s, exit {code.returncode}]\n")
        if code.returncode:
            failed.append(step[0])
    say(f"# all benchmarks: {time.perf_counter() - started:.0f} s; {machine_note()}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
