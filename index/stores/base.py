"""The one interface to chunk vectors: a store searches them, a backend writes and opens them.

FAISS (index/stores/faiss_store.py) and Milvus (index/stores/milvus/) implement it. The edges
pick the backend from Settings (index.stores.store_backend) and pass it in; a reader opens
whatever backend the generation records in its meta.json, so nothing else asks which store
is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.corpus import Corpus

Hits = list[tuple[int, float]]  # (chunk row, cosine similarity), best first


@dataclass(frozen=True)
class Scope:
    """The rows a search may return: all of them, or those admitted by filters or listed.

    `rows` is always the exact admitted set (sorted); the bounds say *why*, so a store that
    evaluates filters itself (Milvus) need not be sent a list of a million row ids.
    """

    rows: np.ndarray | None = field(default=None, compare=False)
    after: datetime | None = None
    before: datetime | None = None
    author: str | None = None

    @property
    def size(self) -> int | None:
        """Return how many rows are admitted (None: all)."""
        return None if self.rows is None else len(self.rows)

    @property
    def by_filters(self) -> bool:
        """Return whether date/author bounds describe the admitted rows."""
        return any((self.after, self.before, self.author))


EVERYTHING = Scope()


class VectorStore(Protocol):
    """Search one generation's chunk vectors by inner product (== cosine, rows are unit)."""

    def search(self, query: np.ndarray, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Return up to k (row, score) pairs from the scope, best first."""
        ...

    def vectors(self) -> np.ndarray:
        """Return every row's vector, float32 (n, dim): what a rebuild reuses."""
        ...


class StoreBackend(Protocol):
    """Write a generation's vectors into a store, and open them again for searching."""

    kind: str  # recorded in meta.json as "store"

    def write(
        self,
        folder: Path,
        articles: dict[str, Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        model: str,
        previous: Path | None,
    ) -> tuple[dict, list[str]]:
        """Store a generation being written; return its meta fields and rows to drop later."""
        ...

    def published(self, folder: Path, meta: dict, stale: list[str]) -> None:
        """Tidy up once the generation is live (drop rows only the previous one needed)."""
        ...

    def open(self, folder: Path, meta: dict, corpus: Corpus) -> VectorStore:
        """Open a published generation's vectors for searching."""
        ...
