"""HNSW vs exact search: recall@10 and one-query latency by size, to place HNSW_THRESHOLD.

Corpus vectors: the default corpus's real chunk vectors, plus perturbed replicas above its size
(bench/common.py). Queries: real embeddings of the bench questions and of every article title.
Searches run one query at a time on one FAISS thread, as a serving worker does.

    .venv/bin/python -m bench.vector_index [--sizes 1000,5000,...]
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

import index.store as store
from bench.common import QUESTIONS, machine_note, percentiles, real_index, say, synthetic_index
from bench.common import table as print_table
from index.embedding import load_embedder
from index.store import current_generation, load_index, make_vector_index

SIZES = "1000,5000,10000,20000,50000,100000,1000000"
EFS = (64, 128, 256)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=SIZES)
    args = parser.parse_args()
    say(f"# vector index ({machine_note()})")
    real = load_index(real_index())
    n = len(real.chunks)  # row r of a synthetic index holds the text of real chunk r % n
    embedder = load_embedder()
    queries = embedder.encode(QUESTIONS + [a.title for a in real.articles.values()])
    faiss.omp_set_num_threads(1)
    rows = []
    for size in map(int, args.sizes.split(",")):
        folder, _ = synthetic_index(size)
        stored = faiss.read_index(str(folder / current_generation(folder) / "vectors.faiss"))
        vectors = stored.reconstruct_n(0, stored.ntotal)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        flat_ms, exact = _latencies(flat, queries)
        del flat
        if isinstance(stored, faiss.IndexHNSW):  # the store built it: reuse (1M takes minutes)
            hnsw, build_s = stored, "(in index build)"
        else:
            faiss.omp_set_num_threads(2)  # build on every core, as `qa index` does
            saved, store.HNSW_THRESHOLD = store.HNSW_THRESHOLD, 0
            try:
                started = time.perf_counter()
                hnsw = make_vector_index(vectors)
                build_s = time.perf_counter() - started
            finally:
                store.HNSW_THRESHOLD = saved
                faiss.omp_set_num_threads(1)
        del stored
        recalls = {}
        for ef in EFS:
            hnsw.hnsw.efSearch = ef
            ms, found = _latencies(hnsw, queries)
            # Replicas of one chunk tie within noise: also count the distinct texts found.
            recalls[ef] = (_recall(found, exact), _recall(found % n, exact % n), ms)
        del hnsw, vectors
        hnsw_ms = recalls[store.HNSW_EF_SEARCH][2]
        rows.append(
            [
                size,
                percentiles(flat_ms)[0],
                percentiles(hnsw_ms)[0],
                percentiles(hnsw_ms)[2],
                *(recalls[ef][0] for ef in EFS),
                recalls[store.HNSW_EF_SEARCH][1],
                build_s,
                "hnsw" if size >= store.HNSW_THRESHOLD else "flat",
            ]
        )
        say(f"  {size:,} done")
    print_table(
        f"HNSW (M={store.HNSW_M}, efConstruction={store.HNSW_EF_CONSTRUCTION}) vs exact, "
        f"{len(queries)} real queries, k=10, 1 thread",
        [
            "chunks",
            "flat p50 ms",
            f"hnsw p50 ms (ef {store.HNSW_EF_SEARCH})",
            "hnsw p99 ms",
            *(f"recall ef{ef}" for ef in EFS),
            f"text recall ef{store.HNSW_EF_SEARCH}",
            "hnsw build s",
            "store picks",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
