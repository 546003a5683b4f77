"""One index copy per machine: memory of two `qa serve` workers, worker start and ask latency,
before #14 (each worker reads its own copy) and after (mapped files), side by side in one run.

Indexes: bench/common.synthetic_index at each size, built through each checkout's own
save_index: the seed articles' real chunk texts replicated, their real vectors plus noise
(cosine ~0.8 to the source), and a real BM25 over the texts. No model embeds 1M chunks here.
`--old` is a checkout of the commit before #14 (`git archive 248fe69`) with its own var/bench.

Memory: /proc/<pid>/smaps_rollup of both gunicorn workers of a default `qa serve` (2 workers,
reranker and span reader on) after each worker answered questions. What the second worker adds
is its private memory: USS (Private_Clean + Private_Dirty) counts too the clean pages of mapped
files that only it has touched yet (page cache: shared once the other worker reads them, and
reclaimable), so the table gives Private_Dirty too: heap and copied pages, truly its own.
Worker start: SIGKILL the one worker of a 1-worker server; seconds until gunicorn's new worker
answers /healthz (it loads the index and warms up first). Latency: sequential HTTP asks.

    .venv/bin/python -m bench.shared --old /tmp/scale/old [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import (
    QUESTIONS,
    REPO,
    Server,
    cpu_seconds,
    get,
    machine_note,
    percentiles,
    post,
    say,
    synthetic_index,
    table,
)


def smaps(pid: int) -> dict[str, float]:
    """Return RSS, PSS, USS and private dirty memory of a process in MiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    mib = {"rss": fields["Rss"], "pss": fields["Pss"], "uss": uss, "dirty": fields["Private_Dirty"]}
    return {name: kib / 1024 for name, kib in mib.items()}


def folder_for(size: int, repo: Path) -> Path:
    """Return the synthetic index of `size` chunks in a checkout's format (built if missing)."""
    if repo == REPO:
        return synthetic_index(size)[0]
    code = f"from bench.common import synthetic_index; print(synthetic_index({size})[0])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def warm_every_worker(server: Server, rounds: int = 12) -> None:
    """Ask from two clients at once until each worker has used CPU answering."""
    pids = server.worker_pids()
    before = {p: cpu_seconds(p) for p in pids}
    for n in range(rounds):
        threads = [
            threading.Thread(target=post, args=(server.port, "/api/ask", {"question": q}))
            for q in QUESTIONS[2 * n % len(QUESTIONS) :][:2]
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if n >= 2 and all(cpu_seconds(p) - before[p] > 0.5 for p in pids):
            return
    say(f"  (not every worker answered: {[cpu_seconds(p) - before[p] for p in pids]})")


def ask_ms(server: Server, rounds: int) -> list[float]:
    """Return the latency of each of `rounds` passes over the questions, one at a time."""
    ms = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            status, _ = post(server.port, "/api/ask", {"question": question})
            ms.append(1000 * (time.perf_counter() - started))
            assert status == 200, status
    return ms


def worker_restart_seconds(server: Server) -> float:
    """Kill the only worker; return seconds until its replacement answers /healthz."""
    (pid,) = server.worker_pids()
    started = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    while True:
        pids = server.worker_pids()
        if pids and pids != [pid]:
            try:
                if get(server.port, "/healthz", timeout=60)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
        time.sleep(0.05)


def recall_at_10(folder: Path) -> tuple[str, float]:
    """Return the store's vector index kind and its recall@10 against exact search."""
    import numpy as np

    from index.embedder.runtime import load_embedder
    from index.store import load_index

    index = load_index(folder)
    queries = load_embedder(threads=1).encode(QUESTIONS)
    vectors = index.store.vectors()
    found = 0
    for q in queries:
        exact = set(np.argsort(-(vectors @ q))[:10].tolist())
        found += len(exact & {r for r, _ in index.store.search(q[None, :], 10)})
    return index.meta["vector_index"], found / (10 * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout before #14")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--old-sizes", default=None, help="sizes to run before #14 (all)")
    args = parser.parse_args()
    say(f"# one index copy per machine ({machine_note()})")
    memory, starts, latency, recall = [], [], [], []
    old_sizes = {int(s) for s in (args.old_sizes or args.sizes).split(",")}
    for size in [int(s) for s in args.sizes.split(",")]:
        for label, repo in (("before", args.old.resolve()), ("mapped", REPO)):
            if label == "before" and size not in old_sizes:
                continue
            folder = folder_for(size, repo)
            if repo == REPO:
                recall.append([size, *recall_at_10(folder)])
            with Server(folder, workers=2, repo=repo) as server:
                warm_every_worker(server)
                first, second = (smaps(p) for p in server.worker_pids())
                rerank = ask_ms(server, 1)
            memory.append(
                [size, label, first["rss"], first["pss"], first["uss"], second["rss"],
                 second["pss"], second["uss"], second["dirty"], second["uss"] / first["rss"],
                 second["dirty"] / first["rss"]]
            )  # fmt: skip
            with Server(folder, workers=1, repo=repo, flags=["--no-rerank"]) as server:
                ready = server.ready_seconds
                plain = ask_ms(server, args.rounds)
                restart = worker_restart_seconds(server)
                after = ask_ms(server, 1)
            starts.append([size, label, ready, restart])
            p50 = [percentiles(ms)[0] for ms in (plain, after, rerank)]
            latency.append([size, label, len(plain), p50[0], p50[1], len(rerank), p50[2]])
            say(f"  {size:,} {label} done")
    table(
        "memory of the two workers of `qa serve` (MiB), each after answering; USS counts the "
        "mapped file pages only that worker touched so far (page cache, shared as soon as the "
        "other touches them); private dirty is the memory a worker alone holds",
        ["chunks", "format", "1st RSS", "1st PSS", "1st USS", "2nd RSS", "2nd PSS", "2nd USS",
         "2nd private dirty", "2nd USS / 1st RSS", "2nd dirty / 1st RSS"],
        memory,
    )  # fmt: skip
    table(
        "start: a 1-worker server to its first /healthz 200; a killed worker's replacement "
        "to /healthz 200 (s)",
        ["chunks", "format", "server ready s", "worker restart s"],
        starts,
    )
    table(
        "ask latency over HTTP, sequential (ms): 1 worker --no-rerank; 2 workers with rerank",
        ["chunks", "format", "n", "p50", "p50 after restart", "n rerank", "p50 rerank"],
        latency,
    )
    table(
        f"mapped vector index: recall@10 against exact search, {len(QUESTIONS)} bench questions",
        ["chunks", "kind", "recall@10"],
        recall,
    )
    by = {(r[0], r[1]): r for r in latency}
    for size in sorted({r[0] for r in latency} & old_sizes):
        old, new = by[(size, "before")], by[(size, "mapped")]
        say(
            f"{size:,} chunks: p50 mapped / before = {new[3] / old[3]:.3f} without rerank, "
            f"{new[6] / old[6]:.3f} with rerank"
        )


if __name__ == "__main__":
    main()
