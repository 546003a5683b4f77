"""The reader's term statistics on first use: counted over every chunk vs read off BM25.

The reader weighs words by their rarity (document frequencies over all chunks). Counting them
re-tokenises every chunk on the first question; the BM25 index already holds them (one
column per term). Both ways, side by side in one run, on the benchmark indexes (real corpus,
then replicas; bench/common.py), and a check that both give the same numbers.

    .venv/bin/python -m bench.reader [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import time

from bench.common import machine_note, say, synthetic_index, table
from index.store import load_index
from qa.text.terms import document_frequencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    say(machine_note())
    rows = []
    for size in map(int, args.sizes.split(",")):
        folder, _ = synthetic_index(size)
        index = load_index(folder)
        started = time.perf_counter()
        read_off = index.lexical.document_frequencies()
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        counted, n = document_frequencies(c.text for c in index.chunks)
        count_seconds = time.perf_counter() - started
        same = read_off == (dict(counted), n)
        rows.append(
            (
                f"{size:,}",
                f"{count_seconds:.2f}",
                f"{read_seconds:.3f}",
                f"{read_seconds / count_seconds:.4f}",
                "yes" if same else "NO",
            )
        )
    table(
        "reader term statistics: counted vs read off the BM25 index",
        ("chunks", "counted s", "from BM25 s", "ratio", "same numbers"),
        rows,
    )


if __name__ == "__main__":
    main()
