"""Serving: ask latency (Python API and HTTP), throughput under load, and worker memory by size.

Indexes of 1k, 10k, 100k and 1M chunks (real default corpus, then replicas with perturbed
vectors; bench/common.py). The Python API runs in this process on one thread (a serving
worker's setting). HTTP goes through `qa serve` (gunicorn) on 127.0.0.1: latency with one
worker and one question at a time; throughput with the default two workers and a few client
threads for a fixed time; memory is the RSS of a warmed-up worker. Runs without rerank use
`qa serve --no-rerank`.

    .venv/bin/python -m bench.serve [--sizes 1000,10000,100000,1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import os
import threading
import time

import faiss

from bench.common import (
    QUESTIONS,
    Server,
    cpu_seconds,
    machine_note,
    percentiles,
    post,
    real_index,
    rss_mb,
    say,
    synthetic_index,
    table,
)
from index.embedder.runtime import load_embedder
from index.store import load_index
from index.stores.faiss_store import vector_index_kind
from qa.pipeline import Answerer

SIZES = "1000,10000,100000,1000000"


def _answerer_takes_rerank() -> bool:
    return "rerank" in inspect.signature(Answerer.__init__).parameters


def api_latency(index, embedder, rerank: bool | None, rounds: int) -> tuple[float, list[float]]:
    """Return (first-ask seconds, latencies in ms) of Answerer.ask on this index."""
    options = {} if rerank is None else {"rerank": rerank}
    answerer = Answerer(index, embedder, **options)
    started = time.perf_counter()
    answerer.ask(QUESTIONS[0])  # builds the reader's term weights, loads the reranker
    first = time.perf_counter() - started
    ms = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            answerer.ask(question)
            ms.append(1000 * (time.perf_counter() - started))
    return first, ms


def stages(index, embedder) -> list[float]:
    """Return median ms of the stages under ask: encode, dense search, BM25 scores."""
    import numpy as np

    enc, dense, bm25 = [], [], []
    for question in QUESTIONS:
        started = time.perf_counter()
        vector = embedder.encode([question])
        enc.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        index.store.search(vector, 60)
        dense.append(1000 * (time.perf_counter() - started))
        if getattr(index, "lexical", None) is not None:
            started = time.perf_counter()
            index.lexical.scores(question)
            bm25.append(1000 * (time.perf_counter() - started))
    return [float(np.median(x)) if x else float("nan") for x in (enc, dense, bm25)]


def _warm(server: Server, requests: int) -> None:
    """Send concurrent asks so every worker has answered (first asks build lazy state)."""
    threads = [
        threading.Thread(target=post, args=(server.port, "/api/ask", {"question": q}))
        for q in (QUESTIONS * 4)[:requests]
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def http_latency(server: Server, rounds: int) -> tuple[list[float], int]:
    """Return (latencies in ms, errors) of sequential POST /api/ask."""
    ms, errors = [], 0
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            status, body = post(server.port, "/api/ask", {"question": question})
            ms.append(1000 * (time.perf_counter() - started))
            errors += status != 200 or "citations" not in json.loads(body)
    return ms, errors


def load(server: Server, seconds: float, clients: int) -> tuple[int, int, list[float]]:
    """Hit the server from `clients` threads for `seconds`; return (ok, errors, latencies ms)."""
    deadline = time.monotonic() + seconds
    results: list[tuple[bool, float]] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < deadline:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            started = time.perf_counter()
            try:
                status, _ = post(server.port, "/api/ask", {"question": question}, timeout=30)
                ok = status == 200
            except OSError:
                ok = False
            with lock:
                results.append((ok, 1000 * (time.perf_counter() - started)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = sum(1 for good, _ in results if good)
    return ok, len(results) - ok, [ms for _, ms in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=SIZES)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    parser.add_argument("--seconds", type=float, default=15, help="length of each load run")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    say(f"# serving ({machine_note()})")
    sizes = [int(s) for s in args.sizes.split(",")]
    faiss.omp_set_num_threads(1)
    embedder = load_embedder(threads=1)
    reranks = [False, True] if _answerer_takes_rerank() else [None]
    servers = [("yes", []), ("no", ["--no-rerank"])] if reranks[0] is not None else [("no", [])]

    api_rows, http_rows, memory_rows, build_rows, stage_rows = [], [], [], [], []
    for size in sizes:
        folder, built = synthetic_index(size)
        index = load_index(folder)
        kind = vector_index_kind(index.store.index)
        build_rows.append([size, kind, built, index.meta.get("load_seconds", "")])
        stage_rows.append([size, kind, *stages(index, embedder)])
        for rerank in reranks:
            rounds = 1 if rerank else args.rounds  # a reranked ask costs ~20 plain ones
            first, ms = api_latency(index, embedder, rerank, rounds)
            p50, p95, p99 = percentiles(ms)
            label = {None: "n/a", False: "no", True: "yes"}[rerank]
            api_rows.append([size, kind, label, len(ms), p50, p95, p99, p99 / p50, first])
        del index
        for label, flags in servers:
            if label == "no" and size >= 1_000_000:
                continue  # each 1M worker start costs a minute or more; the API row covers it
            with Server(folder, workers=1, flags=flags) as server:
                _warm(server, 2)
                ms, errors = http_latency(server, 2 if label == "yes" else args.rounds)
                p50, p95, p99 = percentiles(ms)
                http_rows.append([size, kind, label, len(ms), p50, p95, p99, p99 / p50, errors])
                if label == servers[0][0]:  # the default worker (reranker loaded if it reranks)
                    rss = rss_mb(server.worker_pids()[0])
                    raw = size * 384 * 4 / 2**20
                    memory_rows.append([size, kind, raw, rss, rss / raw, server.ready_seconds])
        say(f"  {size:,} done")

    table(
        "index build: save_index (vectors + BM25) of the synthetic indexes, cached between runs",
        ["chunks", "vectors", "build s", "load s"],
        build_rows,
    )
    table(
        "stages inside ask (median ms, 1 thread; the rest of ask is reading and citing)",
        ["chunks", "vectors", "encode question", "dense search k=60", "BM25 scores"],
        stage_rows,
    )
    table(
        "ask latency, Python API (Answerer.ask, 1 thread), ms",
        ["chunks", "vectors", "rerank", "n", "p50", "p95", "p99", "p99/p50", "first ask s"],
        api_rows,
    )
    table(
        "ask latency, HTTP (qa serve, 1 worker, sequential client), ms",
        ["chunks", "vectors", "rerank", "n", "p50", "p95", "p99", "p99/p50", "errors"],
        http_rows,
    )
    table(
        "memory of a serving worker (after warm-up)",
        ["chunks", "vectors", "raw vectors MiB", "worker RSS MiB", "RSS / raw", "ready s"],
        memory_rows,
    )

    load_rows = []
    runs = [("default corpus", real_index()), ("100k", synthetic_index(100_000)[0])]
    for (name, folder), (label, flags) in itertools.product(runs, servers[::-1]):
        if label == "yes" and name != "default corpus":
            continue  # a reranked ask takes seconds on 2 cores: one such run says enough
        with Server(folder, workers=2, flags=flags) as server:
            _warm(server, 8)
            workers = server.worker_pids()
            cpu = sum(map(cpu_seconds, workers))
            ok, errors, ms = load(server, args.seconds, args.clients)
            cpu_ms = 1000 * (sum(map(cpu_seconds, workers)) - cpu) / max(1, ok + errors)
            p50, _, p99 = percentiles(ms) if ms else (float("nan"),) * 3
            rate = ok / args.seconds
            cores = os.cpu_count() or 1
            load_rows.append(
                [name, label, args.clients, rate, errors, p50, p99, cpu_ms, 1000 * cores / cpu_ms]
            )
    table(
        f"throughput: qa serve (2 workers), {args.seconds:.0f} s of load from client threads; "
        "the last column is cores x 1000 / worker CPU ms per request",
        [
            "index",
            "rerank",
            "clients",
            "req/s",
            "errors",
            "p50 ms",
            "p99 ms",
            "worker CPU ms/req",
            "req/s the cores allow",
        ],
        load_rows,
    )


if __name__ == "__main__":
    main()
