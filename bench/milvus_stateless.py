"""Stateless replicas on Milvus Lite vs local FAISS, side by side: memory, p50 ask, citations.

Memory and latency: the synthetic generations of docs/performance.md (bench/common
.synthetic_index) are published into one Milvus Lite file per size (index/stores/milvus/publish.py);
`qa serve --no-rerank` runs one worker on the FAISS folder, then one with
NEWSQA_MILVUS_STATELESS=1 and no index folder at all (`--index` names a folder that does not
exist). Each worker is measured after answering (smaps_rollup), and the Lite server beside it.

Citations (`--parity N`): the squad-dev articles indexed with the real model, published to
Lite, and the first N squad-dev questions asked of both, without the cross-encoder; hit@1 of
each and how many top citations agree.

    .venv/bin/python -m bench.milvus_stateless [--sizes 10000,100000] [--rounds 2] [--parity 200]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import VAR, Server, machine_note, percentiles, say, synthetic_index, table
from bench.milvus_replica import lite_servers
from bench.shared import ask_ms, smaps

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "squad-dev"


def published(folder: Path, lite: Path) -> Path:
    """Publish a local generation into a Lite file of its own (once; reused by later runs)."""
    from index.store import load_index
    from index.stores.milvus.publish import live_record, prepare, switch
    from index.stores.milvus.rows import Connection, ReplicaConfig

    config = ReplicaConfig(str(lite))
    index = load_index(folder)
    conn = Connection(config)
    try:
        record = live_record(conn.client, config)
    finally:
        conn.close()
    if record and record["chunks"] == len(index.corpus):
        return lite
    articles, chunks = dict(index.articles), list(index.chunks)
    switch(config, prepare(config, articles, chunks, index.store.vectors(), index.meta["model"]))
    return lite


def memory_and_latency(sizes: list[int], rounds: int) -> None:
    """Print worker memory and p50 ask for FAISS and a stateless Lite replica at each size."""
    rows, p50 = [], {}
    for size in sizes:
        folder = synthetic_index(size)[0]
        lite = published(folder, VAR / f"stateless-{size}.db")  # Lite: names under 36
        env = {"NEWSQA_STORE": "milvus", "NEWSQA_MILVUS_STATELESS": "1",
               "NEWSQA_MILVUS_URI": str(lite)}  # fmt: skip
        for store, where, extra in (
            ("faiss", folder, {}),
            ("stateless lite", VAR / "no-such-folder", env),
        ):
            with Server(where, workers=1, flags=["--no-rerank"], env=extra) as server:
                ask_ms(server, 1)  # warm: the caches and pages the questions touch
                ms = ask_ms(server, rounds)
                (worker,) = server.worker_pids()
                mem = smaps(worker)
                lite_rss = sum(smaps(p)["rss"] for p in lite_servers(worker))
            p50[(size, store)] = percentiles(ms)[0]
            rows.append([size, store, mem["rss"], mem["uss"], mem["dirty"], lite_rss, len(ms),
                         p50[(size, store)]])  # fmt: skip
            say(f"  {size:,} {store} done")
    table(
        "one `qa serve --no-rerank` worker after answering (MiB); Lite server RSS beside it",
        ["chunks", "store", "worker RSS", "USS", "private dirty", "Lite RSS", "n", "p50 ms"],
        rows,
    )
    for size in sizes:
        ratio = p50[(size, "stateless lite")] / p50[(size, "faiss")]
        say(f"{size:,} chunks: p50 stateless Lite / FAISS = {ratio:.2f}")
    rss = {r[0]: r[2] for r in rows if r[1] == "stateless lite"}
    if len(sizes) > 1:
        say(f"stateless worker RSS {sizes[-1]:,} / {sizes[0]:,}: "
            f"{rss[sizes[-1]] / rss[sizes[0]]:.3f}")  # fmt: skip
    (VAR / "milvus_stateless.json").write_text(json.dumps(rows))


def parity(limit: int) -> None:
    """Ask the first `limit` squad-dev questions locally and of a stateless replica."""
    from index.build import build
    from index.embedder.runtime import load_embedder
    from index.store import load_index
    from index.stores.milvus.replica import MilvusGenerations
    from index.stores.milvus.rows import ReplicaConfig
    from qa.evaluation.run import first_hit, load_questions
    from qa.pipeline import Answerer

    embedder = load_embedder()
    folder = VAR / "squad-dev-index"
    build(SQUAD / "articles", folder, embedder)
    lite = published(folder, VAR / "stateless-squad-dev.db")
    questions = load_questions(SQUAD, limit)  # the sample `qa eval --limit` takes
    local = Answerer(load_index(folder), embedder, rerank=False)
    generations = MilvusGenerations(ReplicaConfig(str(lite)))
    remote = Answerer(generations.load(), embedder, rerank=False)
    hits, agree = {"faiss": 0, "stateless lite": 0}, 0
    for q in questions:
        near, far = local.ask(q["question"]), remote.ask(q["question"])
        hits["faiss"] += first_hit(near, q["answers"]) == 1
        hits["stateless lite"] += first_hit(far, q["answers"]) == 1
        tops = [(a.citations[0].url, a.citations[0].start) if a.citations else None
                for a in (near, far)]  # fmt: skip
        agree += tops[0] == tops[1]
    n = len(questions)
    for store, hit in hits.items():
        say(f"squad-dev, {n} questions, no rerank: {store} hit@1 {hit / n:.3f}")
    say(f"same top citation: {agree}/{n}; hit@1 difference "
        f"{abs(hits['faiss'] - hits['stateless lite']) / n:.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parity", type=int, default=0, help="squad-dev questions (0: none)")
    args = parser.parse_args()
    say(f"# stateless replica on Milvus Lite vs FAISS ({machine_note()})")
    if args.parity:
        parity(args.parity)
    if args.sizes:
        memory_and_latency([int(s) for s in args.sizes.split(",")], args.rounds)


if __name__ == "__main__":
    main()
