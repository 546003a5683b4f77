"""Whole-pipeline latency and throughput over HTTP, this checkout beside a baseline commit.

Both servers run at once (`qa serve` defaults: two gunicorn workers, full pipeline) on the
same machine; one client asks the same questions of each in turn (A, B, A, B...), so a load
spike hits both alike, and the table prints the ratios. The baseline is `git archive`d into
var/bench/baseline-<commit> and builds its own index of the default corpus with its own code;
at 100k chunks both serve the same synthetic index (bench/common.py). Each latency round asks
with another k, so no answer comes from a cache; one last round repeats the first (the answer
cache's case, a chat asking again). Throughput: 2 and 8 polite clients, every question new
(a made-up word at its end), for --seconds each, one server at a time. Per-stage times of
this checkout come from its GET /metrics (newsqa_stage_seconds), counted during the rounds.

    .venv/bin/python -m bench.latency [--baseline b8e3bee] [--sizes real,100000] [--rounds 3]
        [--seconds 20] [--env NEWSQA_THREADS=2] [--workers 2]   # for this checkout only
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

from bench.common import (
    QUESTIONS,
    REPO,
    SEEDS,
    VAR,
    Server,
    entry,
    get,
    machine_note,
    percentiles,
    post,
    real_index,
    say,
    synthetic_index,
    table,
)
from bench.storm import unique_question

_STAGE = re.compile(r'^newsqa_stage_seconds_(sum|count)\{stage="(\w+)"\} (\S+)$', re.M)


def checkout(commit: str) -> Path:
    """Return a plain copy of commit's tree under var/bench (made once)."""
    folder = VAR / f"baseline-{commit}"
    if not (folder / "pyproject.toml").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def baseline_index(repo: Path) -> Path:
    """Return the default corpus indexed by the baseline's own code (built once)."""
    folder = repo / "var" / "bench-index"
    if not (folder / "current").exists():
        env = {"PYTHONPATH": str(repo), "HF_HUB_OFFLINE": "1"}
        command = [*entry(repo), "index", "--seeds", str(SEEDS), "--index", str(folder)]
        subprocess.run(command, cwd=repo, env={**os.environ, **env}, check=True)
    return folder


def stage_seconds(port: int) -> dict[str, tuple[float, float]]:
    """Return each stage's (seconds, runs) summed over the server's workers so far."""
    status, body = get(port, "/metrics")
    if status != 200:
        return {}
    out: dict[str, list[float]] = {}
    for kind, stage, value in _STAGE.findall(body.decode()):
        out.setdefault(stage, [0.0, 0.0])[kind == "count"] += float(value)
    return {s: (v[0], v[1]) for s, v in out.items()}


def interleaved(servers: dict[str, Server], rounds: int, k_of) -> dict[str, list[float]]:
    """Ask every question of each server in turn; return latencies in ms by server."""
    ms: dict[str, list[float]] = {name: [] for name in servers}
    for r in range(rounds):
        for question in QUESTIONS:
            for name, server in servers.items():
                started = time.perf_counter()
                status, body = post(server.port, "/api/ask", {"question": question, "k": k_of(r)})
                ms[name].append(1000 * (time.perf_counter() - started))
                if status != 200 or "citations" not in json.loads(body):
                    raise RuntimeError(f"{name}: {status} {body[:200]!r}")
    return ms


def polite(server: Server, seconds: float, clients: int) -> tuple[float, int, float]:
    """Return (answers/s, errors, p50 ms) of clients that each ask a new question on an answer."""
    deadline = time.monotonic() + seconds
    results: list[tuple[bool, float]] = []

    def client() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:  # a question never asked before: the answer cache has nothing to give
                ok = post(server.port, "/api/ask", {"question": unique_question()}, 60)[0] == 200
            except OSError:
                ok = False
            results.append((ok, 1000 * (time.perf_counter() - started)))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    good = [ms for ok, ms in results if ok]
    return len(good) / seconds, len(results) - len(good), percentiles(good)[0] if good else 0.0


def warm(server: Server) -> None:
    """Answer a few questions from two clients at once, so both workers loaded their models."""
    polite(server, 3.0, 2)


def run_size(size: str, repo: Path, rounds: int, seconds: float, env: dict, workers: int) -> dict:
    """Measure one index size: latency rows, throughput rows, stage times."""
    if size == "real":
        mine, theirs = real_index(), baseline_index(repo)
    else:
        mine = theirs = synthetic_index(int(size))[0]
    with (
        Server(mine, workers=workers, env=env) as now,
        Server(theirs, workers=2, repo=repo) as before,
    ):
        servers = {"this": now, "baseline": before}
        for server in servers.values():
            warm(server)
        stages_before = stage_seconds(now.port)
        # Each round asks with another k: the same work, but a new request (no cached answer).
        ms = interleaved(servers, rounds, lambda r: max(1, 5 - r))
        stages_after = stage_seconds(now.port)
        repeats = interleaved(servers, 1, lambda r: 5)  # asked before: a chat repeating itself
        rates = {}
        for clients in (2, 8):
            for name, server in servers.items():
                rates[(name, clients)] = polite(server, seconds, clients)
    stages = {
        s: 1000
        * (stages_after[s][0] - stages_before.get(s, (0, 0))[0])
        / max(1.0, stages_after[s][1] - stages_before.get(s, (0, 0))[1])
        for s in stages_after
    }
    return {"ms": ms, "repeats": repeats, "rates": rates, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="b8e3bee")
    parser.add_argument("--sizes", default="real,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--env", action="append", default=[], help="K=V for this checkout")
    parser.add_argument("--workers", type=int, default=2, help="this checkout's (baseline: 2)")
    args = parser.parse_args()
    env = dict(pair.split("=", 1) for pair in args.env)
    repo = checkout(args.baseline)
    say(f"# this checkout ({args.workers} workers {env}) beside {args.baseline} ({machine_note()})")
    latency, throughput, stages = [], [], []
    for size in args.sizes.split(","):
        result = run_size(size, repo, args.rounds, args.seconds, env, args.workers)
        p = {name: percentiles(ms) for name, ms in result["ms"].items()}
        n = len(result["ms"]["this"])
        latency.append(
            [size, "new", n, p["baseline"][0], p["this"][0], p["this"][0] / p["baseline"][0],
             p["baseline"][1], p["this"][1]]
        )  # fmt: skip
        r = {name: percentiles(ms) for name, ms in result["repeats"].items()}
        latency.append(
            [size, "repeated", len(QUESTIONS), r["baseline"][0], r["this"][0],
             r["this"][0] / r["baseline"][0], r["baseline"][1], r["this"][1]]
        )  # fmt: skip
        for clients in (2, 8):
            old, new = result["rates"][("baseline", clients)], result["rates"][("this", clients)]
            throughput.append(
                [size, clients, old[0], new[0], new[0] / old[0] if old[0] else float("nan"),
                 old[1], new[1], old[2], new[2]]
            )  # fmt: skip
        stages += [[size, s, ms] for s, ms in sorted(result["stages"].items())]
        say(f"  {size} done")
    table(
        f"one client, questions interleaved between the servers: ms ({args.baseline} = baseline)",
        [
            "index",
            "questions",
            "asks each",
            "base p50",
            "this p50",
            "ratio",
            "base p90",
            "this p90",
        ],
        latency,
    )
    table(
        f"polite clients, each question new, {args.seconds:g} s each: answers/s, errors, p50 ms",
        ["index", "clients", "base /s", "this /s", "ratio", "base err", "this err",
         "base p50", "this p50"],
        throughput,
    )  # fmt: skip
    table("this checkout, mean ms per stage (GET /metrics) during the latency rounds",
          ["index", "stage", "ms"], stages)  # fmt: skip


if __name__ == "__main__":
    main()
