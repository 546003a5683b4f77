"""Milvus Lite vs FAISS at 100k chunks: insert rate, query latency with and without a filter.

Same vectors, same queries, measured side by side in one run (each query runs on both stores
back to back, so machine noise hits both alike). Exact search on both (FLAT / IndexFlatIP).
Then the next generation's Lite file, as a rebuild makes it after one article changed and one
was added: a copy of the current file plus a diff, against filling a new file from scratch.

    .venv/bin/python -m bench.milvus [--rows 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.stores.milvus.engine import LITE_FILE, MilvusConfig
from index.stores.milvus.mirror import MilvusVectors, filter_expression, row_key, sync_generation

DIM = 384
PER_ARTICLE = 10


def corpus(rows: int, seed: int = 0):
    """Make rows unit vectors in articles of 10 chunks, dated across 2010-2021, 10 authors."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((rows, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    articles, chunks = {}, []
    for i in range(rows // PER_ARTICLE):
        aid = f"a{i}"
        date = datetime(2010 + i % 12, 1 + i % 12, 1, tzinfo=UTC)
        articles[aid] = Article(aid, "", "", date, f"Author {i % 10}", "", "", f"h{i}")
        chunks.extend(Chunk(f"{aid}#{n}", aid, "", 0, 0) for n in range(PER_ARTICLE))
    return articles, chunks, vectors


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q) * 1000)


def next_generation(tmp: Path, articles, chunks, vectors) -> tuple[float, int, int]:
    """Time the next Lite generation as a rebuild makes it (sync_generation: copy + diff),
    with a0 changed and one article added; return (seconds, rows inserted, rows deleted)."""
    articles = {**articles, "a0": replace(articles["a0"], content_hash="changed")}
    articles["new"] = Article("new", "", "", None, "", "", "", "h-new")
    chunks = chunks + [Chunk(f"new#{n}", "new", "", 0, 0) for n in range(PER_ARTICLE)]
    vectors = np.concatenate([vectors, vectors[:PER_ARTICLE]])
    (tmp / "gen-2").mkdir()
    started = time.perf_counter()
    record, _ = sync_generation(tmp / "gen-2", articles, chunks, vectors, "m", tmp / "gen-1")
    return time.perf_counter() - started, record["inserted"], record["deleted"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    articles, chunks, vectors = corpus(args.rows)
    faiss.omp_set_num_threads(1)
    queries = vectors[np.random.default_rng(1).choice(len(vectors), args.queries, replace=False)]
    after = datetime(2018, 1, 1, tzinfo=UTC)
    expr = filter_expression(after=after, author="Author 3")
    admitted = np.array(
        [
            i
            for i, c in enumerate(chunks)
            if articles[c.article_id].date >= after and articles[c.article_id].author == "Author 3"
        ],
        dtype=np.int64,
    )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        flat = faiss.IndexFlatIP(DIM)
        flat.add(vectors)
        faiss_insert = time.perf_counter() - started
        (Path(tmp) / "gen-1").mkdir()
        store = MilvusVectors(MilvusConfig(str(Path(tmp) / "gen-1" / LITE_FILE)))
        started = time.perf_counter()
        store.sync(articles, chunks, vectors, "m")
        milvus_insert = time.perf_counter() - started
        rows = {row_key(c, articles[c.article_id], "m"): i for i, c in enumerate(chunks)}
        times: dict[str, list[float]] = {k: [] for k in ("faiss", "milvus", "faiss+f", "milvus+f")}
        agree = 0
        selector = faiss.SearchParameters(sel=faiss.IDSelectorBatch(admitted))
        for q in queries:
            t = time.perf_counter()
            _, ids = flat.search(q[None], 10)
            times["faiss"].append(time.perf_counter() - t)
            t = time.perf_counter()
            hits = store.search(q, 10)
            times["milvus"].append(time.perf_counter() - t)
            agree += [rows[h] for h, _ in hits] == ids[0].tolist()
            t = time.perf_counter()
            flat.search(q[None], 10, params=selector)
            times["faiss+f"].append(time.perf_counter() - t)
            t = time.perf_counter()
            store.search(q, 10, expr)
            times["milvus+f"].append(time.perf_counter() - t)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        next_gen = next_generation(Path(tmp), articles, chunks, vectors)
        store.close()
    print(f"{args.rows:,} vectors x {DIM} dims, {args.queries} queries, k=10, exact search")
    print(f"{'store':<22}{'insert/s':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, label, insert in (
        ("faiss", "faiss IndexFlatIP", faiss_insert),
        ("milvus", "Milvus Lite FLAT", milvus_insert),
        ("faiss+f", "faiss + filter", None),
        ("milvus+f", "Milvus Lite + filter", None),
    ):
        rate = f"{args.rows / insert:>12,.0f}" if insert else f"{'':>12}"
        ts = times[name]
        print(f"{label:<22}{rate}{pct(ts, 50):>9.1f}{pct(ts, 95):>9.1f}{pct(ts, 99):>9.1f}")
    ratio = np.median(times["milvus"]) / np.median(times["faiss"])
    print(f"Milvus Lite / faiss p50 ratio: {ratio:.1f}x; same top-10 on {agree}/{len(queries)}")
    print(
        f"filter admits {len(admitted):,} rows; Milvus Lite file: {size / 2**20:.0f} MiB "
        f"(raw vectors {vectors.nbytes / 2**20:.0f} MiB)"
    )
    seconds, inserted, deleted = next_gen
    print(
        f"next Lite generation (one article changed, one added): copy + diff {seconds:.1f} s "
        f"(+{inserted} -{deleted} rows) vs filling a new file {milvus_insert:.1f} s: "
        f"ratio {seconds / milvus_insert:.3f}"
    )


if __name__ == "__main__":
    main()
