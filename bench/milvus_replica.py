"""A replica on Milvus Lite vs the same index on FAISS: the worker's memory by size, and p50 ask.

The same synthetic generation (bench/common.synthetic_index: real chunk texts replicated, real
vectors plus noise, real BM25) is written a second time through the Milvus backend (a Lite
file per generation; Lite inserts ~1-5k rows/s here, so 1M rows is left out). `qa serve`
runs one worker on each (Lite allows one process per file), without the reranker; the worker
is measured after answering (smaps_rollup), and the Lite server process beside it too.
This is Milvus mode as #14 leaves it: Milvus answers the dense search, the worker maps the
corpus, BM25 and its row keys from the generation folder.

    .venv/bin/python -m bench.milvus_replica [--sizes 10000,100000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import VAR, Server, machine_note, percentiles, say, synthetic_index, table
from bench.shared import ask_ms, smaps


def milvus_copy(size: int) -> Path:
    """Return the synthetic index of `size` chunks written through the Milvus Lite backend."""
    from index.errors import IndexError_
    from index.store import load_index, save_index
    from index.stores.milvus.backend import MilvusBackend
    from index.stores.milvus.engine import MilvusConfig

    source = synthetic_index(size)[0]
    folder = VAR / f"{source.name}-milvus-lite"
    try:
        if load_index(folder).meta["chunks"] == size:
            return folder
    except (IndexError_, KeyError, OSError, ValueError):
        pass
    index = load_index(source)
    articles, chunks = list(index.articles.values()), list(index.chunks)
    vectors = index.store.vectors()
    backend = MilvusBackend(MilvusConfig.of())
    save_index(folder, articles, chunks, vectors, index.meta["model"], backend)
    return folder


def lite_servers(worker: int) -> list[int]:
    """Return the Milvus Lite server processes a worker started (its children)."""
    path = Path(f"/proc/{worker}/task/{worker}/children")
    return [int(p) for p in path.read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    say(f"# replica on Milvus Lite vs FAISS ({machine_note()})")
    rows, p50 = [], {}
    for size in [int(s) for s in args.sizes.split(",")]:
        for store, folder in (
            ("faiss", synthetic_index(size)[0]),
            ("milvus lite", milvus_copy(size)),
        ):
            with Server(folder, workers=1, flags=["--no-rerank"]) as server:
                ask_ms(server, 1)  # warm: page in what the questions touch
                ms = ask_ms(server, args.rounds)
                (worker,) = server.worker_pids()
                mem = smaps(worker)
                lite = sum(smaps(p)["rss"] for p in lite_servers(worker))
            p50[(size, store)] = percentiles(ms)[0]
            rows.append([size, store, mem["rss"], mem["pss"], mem["uss"], mem["dirty"], lite,
                         len(ms), p50[(size, store)]])  # fmt: skip
            say(f"  {size:,} {store} done")
    table(
        "one `qa serve --no-rerank` worker after answering (MiB); Lite server RSS beside it",
        ["chunks", "store", "worker RSS", "PSS", "USS", "private dirty", "Lite server RSS",
         "n", "p50 ms"],
        rows,
    )  # fmt: skip
    sizes = sorted({r[0] for r in rows})
    for size in sizes:
        say(
            f"{size:,} chunks: p50 Milvus Lite / FAISS = "
            f"{p50[(size, 'milvus lite')] / p50[(size, 'faiss')]:.3f}"
        )
    dirty = {r[0]: r[5] for r in rows if r[1] == "milvus lite"}
    if len(sizes) > 1:
        say(f"Lite worker private dirty {sizes[-1]:,} / {sizes[0]:,}: "
            f"{dirty[sizes[-1]] / dirty[sizes[0]]:.3f}")  # fmt: skip
    (VAR / "milvus_replica.json").write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
