"""Goodput under a retry storm (issue 23): answers/s of 2 polite clients, then of 32 clients
that ask again at once after each 503, against `qa serve` with its defaults (2 workers,
--max-queue 4) over the default corpus; /healthz is probed every 0.5 s throughout.

Every request opens its own connection (bench.common.post), the costlier case for the server.
Each question is asked once (a made-up word makes it unique; a retry after a 503 asks it
again), so the answer cache (qa/answer_cache.py) never answers for the pipeline.
`--baseline COMMIT` also serves a `git worktree` of another commit, one after the other, and
measures it the same way (side by side in the last table). Run it by hand on an idle machine:

    .venv/bin/python -m bench.storm [--seconds 20] [--clients 32] [--baseline COMMIT]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import QUESTIONS, REPO, Server, get, machine_note, post, real_index, say, table

PROBE_SECONDS = 0.5
ASKED = itertools.count()  # next() on it is atomic: threads share it


def unique_question() -> str:
    """Return a question of the corpus never asked before, by a made-up word at its end."""
    n = next(ASKED)
    rest, word = n // len(QUESTIONS), ""
    for _ in range(4):
        rest, letter = divmod(rest, 26)
        word += string.ascii_lowercase[letter]
    return f"{QUESTIONS[n % len(QUESTIONS)]} zq{word}"  # rare letters: matches no text


SHED_METRICS = ("newsqa_shed_total", "newsqa_shed_early_total")


@dataclass
class Run:
    """What the clients of one run saw."""

    seconds: float
    replies: list[tuple[int, float, float]] = field(default_factory=list)  # status, s, end
    health: list[float | None] = field(default_factory=list)  # seconds; None: no 200

    def answers_per_s(self, stop: float) -> float:
        """Return the answers (200) per second that arrived before the run's end."""
        return sum(1 for s, _, end in self.replies if s == 200 and end <= stop) / self.seconds

    def count(self, status: int) -> int:
        return sum(1 for s, _, _ in self.replies if s == status)

    def slowest(self, status: int | None = None) -> float:
        """Return the slowest reply in seconds (of one status, or of all)."""
        return max((t for s, t, _ in self.replies if status in (None, s)), default=float("nan"))


def crowd(port: int, clients: int, seconds: float) -> tuple[Run, float]:
    """Ask from `clients` threads, each asking again at once after a 503; probe /healthz."""
    run, lock = Run(seconds), threading.Lock()
    stop = time.monotonic() + seconds

    def ask() -> None:
        question = unique_question()
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = post(port, "/api/ask", {"question": question}, 60)[0]
            except OSError:
                status = 0
            with lock:
                run.replies.append((status, time.perf_counter() - started, time.monotonic()))
            if status == 200:
                question = unique_question()  # else the same again, at once: a retry storm

    def probe() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = get(port, "/healthz", timeout=15)[0] == 200
            except OSError:
                ok = False
            run.health.append(time.perf_counter() - started if ok else None)
            time.sleep(PROBE_SECONDS)

    threads = [threading.Thread(target=ask) for _ in range(clients)]
    threads.append(threading.Thread(target=probe))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return run, stop


def shed_counts(port: int) -> tuple[float | None, ...]:
    """Return newsqa_shed_total and newsqa_shed_early_total (None where not served)."""
    try:
        status, body = get(port, "/metrics", timeout=15)
    except OSError:
        return (None,) * len(SHED_METRICS)
    found: dict[str, float] = {}
    for line in body.decode().splitlines() if status == 200 else []:
        name, _, value = line.partition(" ")
        if name in SHED_METRICS:
            found[name] = float(value)
    return tuple(found.get(name) for name in SHED_METRICS)


def _grown(before: float | None, after: float | None) -> object:
    return "-" if before is None or after is None else int(after - before)


def measure(label: str, repo: Path, index: Path, seconds: float, clients: int) -> list[list]:
    """Serve one checkout; return a row for 2 polite clients and one for the storm."""
    rows = []
    with Server(index, repo=repo) as server:
        crowd(server.port, 8, 3)  # warm-up: every worker has answered (lazy state built)
        for name, n in (("polite", 2), ("storm", clients)):
            before = shed_counts(server.port)
            run, stop = crowd(server.port, n, seconds)
            after = shed_counts(server.port)
            ok = [h for h in run.health if h is not None]
            rows.append(
                [
                    label,
                    name,
                    n,
                    run.answers_per_s(stop),
                    run.count(503),
                    len(run.replies) - run.count(200) - run.count(503),
                    run.slowest(200),
                    run.slowest(),
                    f"{len(ok)}/{len(run.health)}",
                    1000 * max(ok, default=float("nan")),
                    *(_grown(b, a) for b, a in zip(before, after, strict=True)),
                ]
            )
    return rows


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """Check another commit out beside this one (a git worktree), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="newsqa-storm-"))
    tree = folder / "tree"
    git = ["git", "-C", str(REPO), "worktree"]
    subprocess.run([*git, "add", "--detach", str(tree), commit], check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "remove", "--force", str(tree)], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Measure this checkout, and the baseline commit if one is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each run")
    parser.add_argument("--clients", type=int, default=32, help="clients of the storm")
    parser.add_argument("--baseline", help="a commit to measure the same way, beside this one")
    args = parser.parse_args()
    say(f"# retry storm ({machine_note()})")
    index = real_index()
    rows = measure("this checkout", REPO, index, args.seconds, args.clients)
    if args.baseline:
        with worktree(args.baseline) as tree:
            rows += measure(args.baseline, tree, index, args.seconds, args.clients)
    table(
        f"qa serve (defaults), {args.seconds:g} s per run; a storm client asks again at once "
        "after a 503; /healthz probed every 0.5 s; shed: GET /metrics, grown during the run",
        ["checkout", "run", "clients", "answers/s", "503", "other", "slowest answer s",
         "slowest reply s", "healthz ok", "healthz max ms", "shed", "shed early"],
        rows,
    )  # fmt: skip
    pairs = [rows[i : i + 2] for i in range(0, len(rows), 2)]
    table(
        "goodput: storm vs polite",
        ["checkout", "polite answers/s", "storm answers/s", "storm / polite"],
        [[p[0], p[3], s[3], s[3] / p[3] if p[3] else float("nan")] for p, s in pairs],
    )


if __name__ == "__main__":
    main()
