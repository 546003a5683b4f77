"""Cross-encoder precision: which of its int8 matrix products to run in float, time and drift.

The shipped cross-encoder quantises every matrix product's input per run (DynamicQuantizeLinear
then MatMulInteger). One pair per run reads worse than batches of 8 on squad-dev validation
(docs/performance.md), and a float reference says which is closer to the model. This writes
variants of the graph in which the chosen products take their float input and the weights
dequantised (qa/float_products.py; CrossEncoder itself makes layer 0's float), times 12
real pairs one per run on one thread, and prints each variant's logit drift from all-float.
Score a variant with the pipeline by pointing the reranker at its folder (CrossEncoder makes
layer 0's products float on top of what the variant has):

    .venv/bin/python -m bench.rerank_precision
    NEWSQA_RERANKER_DIR=var/bench/rerank-precision/float \\
        .venv/bin/qa eval ../shared/eval/squad-dev --validation --limit 300 --workers 2
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

import qa.cross_encoder as ce
from bench.common import VAR, machine_note, percentiles, real_index, say, table
from index.store import load_index
from qa.float_products import float_products

QUESTION = "how much did Alibaba invest in the company?"
VARIANTS = {  # name: the MatMulInteger nodes made float (a regex on node names)
    "int8": "(?!)",  # none
    "float": r".",
    "layer 0 (shipped)": r"layer\.0/",
    "head": r"pooler|classifier",
    "ffn out": r"layer\.\d+/output/dense",
}


def write_variant(source: Path, pattern: str, folder: Path) -> int:
    """Write the graph with the matching products made float; return how many were."""
    graph, changed = float_products(source / "model.onnx", pattern)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(graph)
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")
    return changed


def main() -> None:
    source = ce.model_dir()
    out = VAR / "rerank-precision"
    folders, changed = {}, {}
    for name, pattern in VARIANTS.items():
        folders[name] = out / name.replace(" ", "-")
        changed[name] = write_variant(source, pattern, folders[name])
    ce.FLOAT_PRODUCTS = "(?!)"  # CrossEncoder's own rewrite off: each variant as written
    models = {name: ce.CrossEncoder(folder, threads=1) for name, folder in folders.items()}
    texts = [c.text for c in load_index(real_index()).chunks]
    say(f"# cross-encoder precision, 12 pairs one per run, 1 thread ({machine_note()})")
    times = {name: [] for name in models}
    scores = {name: [] for name in models}
    for r in range(20):
        passages = texts[r * 12 : (r + 1) * 12]
        for name, model in models.items():
            started = time.perf_counter()
            scores[name].append(model.score(QUESTION, passages))
            times[name].append(1000 * (time.perf_counter() - started))
    reference = np.concatenate(scores["float"])
    rows = []
    for name in models:
        drift = np.abs(np.concatenate(scores[name]) - reference)
        rows.append((name, changed.get(name, 0), *(f"{x:.0f}" for x in percentiles(times[name])),
                     f"{drift.mean():.3f}", f"{drift.max():.3f}"))  # fmt: skip
    table("12 pairs scored", ("variant", "float products", "p50 ms", "p95 ms", "p99 ms",
                              "mean |drift|", "max |drift|"), rows)  # fmt: skip


if __name__ == "__main__":
    main()
