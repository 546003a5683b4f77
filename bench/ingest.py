"""Ingest: chunks/s of the whole `qa index` path vs raw model.encode on the same chunk texts.

The build (parse, chunk, embed, FAISS + BM25, atomic publish) runs on the default seeds into a
temporary folder; then the same embedder encodes the very chunk texts the build made. The ratio
of the two rates is the share of time the pipeline spends embedding (target >= 0.9).

    .venv/bin/python -m bench.ingest [--backend onnx]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import SEEDS, machine_note, say, table
from index.build import build
from index.embedder.runtime import load_embedder
from index.settings import Settings
from index.store import load_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=None, help="default: env NEWSQA_EMBEDDER or onnx")
    args = parser.parse_args()
    backend = args.backend or Settings.from_env().embedder
    say(f"# ingest ({machine_note()})")
    embedder = load_embedder(backend=backend)
    embedder.encode(["warm up the session"])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = build(SEEDS, Path(tmp) / "index", embedder)
        build_seconds = time.perf_counter() - started
        texts = [c.text for c in load_index(Path(tmp) / "index").chunks]
    started = time.perf_counter()
    embedder.encode(texts)
    encode_seconds = time.perf_counter() - started
    build_rate, encode_rate = report.chunks / build_seconds, len(texts) / encode_seconds
    ratio = build_rate / encode_rate
    table(
        f"ingest: the default seeds ({report.articles} articles), backend {backend}",
        ["path", "chunks", "seconds", "chunks/s", "ratio"],
        [
            ["qa index (build)", report.chunks, build_seconds, build_rate, ratio],
            ["raw encode", len(texts), encode_seconds, encode_rate, 1.0],
        ],
    )


if __name__ == "__main__":
    main()
