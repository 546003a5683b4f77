"""IVF vs exact search: recall@10 and one-query latency by size, to place IVF_THRESHOLD.

Corpus vectors: real embeddings (every chunk, sentence and sentence pair of the article folders
on this machine: ~17,600 texts with /work/shared present, bench/common.py real_vectors) up to
their number; above it, replicas of them with Gaussian noise (cosine ~0.8 to their source).
The 1M-vector IVF index is cached in var/bench (k-means and adding take minutes).
Queries: real embeddings of the bench questions, every seed article title and up to 200 SQuAD
questions. One query at a time on one FAISS thread, as a serving worker searches.

    .venv/bin/python -m bench.vector_index [--sizes 1000,5000,...]
"""

from __future__ import annotations

import argparse
import json
import time

import faiss
import numpy as np

import index.stores.faiss_store as store
from bench.common import (
    NOISE,
    QUESTIONS,
    REPO,
    VAR,
    machine_note,
    percentiles,
    real_index,
    real_vectors,
    say,
)
from bench.common import table as print_table
from index.embedder.runtime import load_embedder
from index.store import load_index
from index.stores.faiss_store import make_vector_index

SIZES = "1000,5000,10000,real,50000,100000,1000000"
NPROBES = (16, 32, 64, 128, 256)  # nprobe values tried
SQUAD = REPO.parent / "shared" / "eval" / "squad-dev" / "questions.jsonl"


def _latencies(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[list, np.ndarray]:
    rows = np.empty((len(queries), k), dtype=np.int64)
    ms = []
    for i in range(len(queries)):
        started = time.perf_counter()
        _, found = index.search(queries[i : i + 1], k)
        ms.append(1000 * (time.perf_counter() - started))
        rows[i] = found[0]
    return ms, rows


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Return the mean share of each exact top-k row set that was found."""
    hits = [len(set(f) & set(e)) / len(set(e)) for f, e in zip(found, exact, strict=True)]
    return float(np.mean(hits))


def _queries() -> list[str]:
    texts = QUESTIONS + [a.title for a in load_index(real_index()).articles.values()]
    if SQUAD.exists():
        lines = SQUAD.read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["question"] for line in lines[:: max(1, len(lines) // 200)]]
    return texts


def _corpus(size: int, real: np.ndarray) -> tuple[np.ndarray, str, faiss.Index | None]:
    """Return (vectors, what they are, the cached IVF index of these vectors or None)."""
    n = len(real)
    if size <= n:
        rows = np.random.default_rng(size).choice(n, size, replace=False)
        return real[np.sort(rows)], "real", None
    rng = np.random.default_rng(size)  # the same replicas every run: the cached graph fits
    vectors = np.empty((size, real.shape[1]), dtype=np.float32)
    vectors[:n] = real
    for lo in range(n, size, 100_000):
        hi = min(size, lo + 100_000)
        block = real[np.arange(lo, hi) % n] + NOISE * rng.standard_normal((hi - lo, real.shape[1]))
        vectors[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    cached = VAR / f"ivf-{size}-{n}-{store.ivf_lists(size)}.faiss"
    ivf = faiss.read_index(str(cached)) if cached.exists() else None
    return vectors, "real + replicas", ivf


def _cache(size: int, n: int, ivf: faiss.Index) -> None:
    """Keep IVF indexes of 1M vectors: building one takes minutes on 2 cores."""
    if size >= 1_000_000:
        VAR.mkdir(parents=True, exist_ok=True)
        path = VAR / f"ivf-{size}-{n}-{store.ivf_lists(size)}.faiss"
        faiss.write_index(ivf, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=SIZES)
    args = parser.parse_args()
    say(f"# vector index ({machine_note()})")
    real = real_vectors()
    queries = load_embedder(backend="onnx").encode(_queries())
    faiss.omp_set_num_threads(1)
    rows = []
    for name in args.sizes.split(","):
        size = len(real) if name == "real" else int(name)
        vectors, what, ivf = _corpus(size, real)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        flat_ms, exact = _latencies(flat, queries)
        del flat
        build_s: object = "(cached)"
        if ivf is None:
            faiss.omp_set_num_threads(2)  # build on every core, as `qa index` does
            saved, store.IVF_THRESHOLD = store.IVF_THRESHOLD, 0
            try:
                started = time.perf_counter()
                ivf = make_vector_index(vectors)
                build_s = time.perf_counter() - started
            finally:
                store.IVF_THRESHOLD = saved
                faiss.omp_set_num_threads(1)
            _cache(size, len(real), ivf)
        recalls = {}
        chosen = store.ivf_search_breadth(ivf.nlist)
        for nprobe in sorted({*NPROBES, chosen}):
            ivf.nprobe = nprobe
            ms, found = _latencies(ivf, queries)
            recalls[nprobe] = (_recall(found, exact), ms)
        del ivf, vectors
        ivf_ms = recalls[chosen][1]
        rows.append(
            [
                size,
                what,
                percentiles(flat_ms)[0],
                percentiles(ivf_ms)[0],
                percentiles(ivf_ms)[2],
                chosen,
                recalls[chosen][0],
                *(recalls[nprobe][0] for nprobe in NPROBES),
                build_s,
                "ivf" if size >= store.IVF_THRESHOLD else "flat",
            ]
        )
        say(f"  {size:,} done")
    print_table(
        f"IVF (~4 sqrt(n) lists) vs exact, {len(queries)} real queries, k=10, 1 thread; "
        "IVF latency at the store's nprobe",
        [
            "chunks",
            "vectors",
            "flat p50 ms",
            "ivf p50 ms",
            "ivf p99 ms",
            "store nprobe",
            "recall@10 store nprobe",
            *(f"recall@10 nprobe{nprobe}" for nprobe in NPROBES),
            "ivf build s",
            "store picks",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
