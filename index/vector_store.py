"""The one interface to chunk vectors: a store searches them, a backend writes and opens them.

FAISS (files in the generation folder) and Milvus (index/milvus.py) implement it. The edges
pick the backend from Settings and pass it in; a reader opens whatever backend the generation
records in its meta.json, so nothing else asks which store is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from index.articles import Article
from index.chunking import Chunk

FAISS_FILE = "vectors.faiss"
Hits = list[tuple[int, float]]  # (chunk row, cosine similarity), best first

# Exact search scans every vector: one query on one core costs ~0.05-0.1 ms per 1,000 chunks
# (1 ms at 17k, 10 ms at 100k, 80-120 ms at 1M), HNSW 0.1-2 ms at any size here, with recall@10
# 0.99+ up to 100k real-embedding chunks (bench/vector_index.py). Past 20,000 chunks exact search
# would cost more than the whole rest of the retrieval, so HNSW takes over there.
HNSW_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
# efSearch grows with the index: recall@10 at 1M vectors is 0.84 with 128, 0.95 with 512 and
# 0.97 with 1024 (1.7 ms). Set on every load, not only saved in the file: tunable, no rebuild.
HNSW_EF_SEARCH = 128
HNSW_EF_SEARCH_MAX = 1024


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

    def open(
        self, folder: Path, meta: dict, articles: dict[str, Article], chunks: tuple[Chunk, ...]
    ) -> VectorStore:
        """Open a published generation's vectors for searching."""
        ...


def hnsw_search_breadth(n: int) -> int:
    """Return the efSearch for an HNSW index of n vectors: n / 1000, within [128, 1024]."""
    return max(HNSW_EF_SEARCH, min(HNSW_EF_SEARCH_MAX, n // 1000))


def make_vector_index(vectors: np.ndarray) -> faiss.Index:
    """Build the FAISS index for these unit vectors: exact below HNSW_THRESHOLD, HNSW above."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < HNSW_THRESHOLD:
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = hnsw_search_breadth(len(vectors))
    if len(vectors):
        index.add(vectors)
    return index


def vector_index_kind(index: faiss.Index) -> str:
    """Name the kind of a FAISS index: 'flat' or 'hnsw' (for meta.json and the benchmarks)."""
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


class FaissStore:
    """Vectors in a FAISS index held in memory; filters become an id selector."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def read(cls, path: Path) -> FaissStore:
        """Load a FAISS file, setting HNSW's search breadth for its size."""
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = hnsw_search_breadth(index.ntotal)
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def vectors(self) -> np.ndarray:
        """Return every row's vector (for reuse by a rebuild)."""
        if self.index.ntotal == 0:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_n(0, self.index.ntotal)

    def search(self, query: np.ndarray, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Search the admitted rows only, so that filtering precedes ranking."""
        rows = scope.rows
        k = min(k, len(self) if rows is None else len(rows))
        if k < 1:
            return []
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
            if isinstance(self.index, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, 64))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(query, k, params=params)
        hits = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        if rows is not None and len(hits) < k:
            # An approximate index (HNSW) may miss admitted rows behind a selective filter: a
            # filtered query must still get k results, so score the admitted rows exactly.
            found = self.index.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))
            exact = found @ query[0]
            best = np.lexsort((rows, -exact))[:k]
            hits = [(int(rows[i]), float(exact[i])) for i in best]
        return hits


class FaissBackend:
    """Keep the vectors in the generation folder as one FAISS file."""

    kind = "faiss"

    def write(
        self,
        folder: Path,
        articles: dict[str, Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        model: str,
        previous: Path | None,
    ) -> tuple[dict, list[str]]:
        """Write vectors.faiss (flat or HNSW by size)."""
        index = make_vector_index(vectors)
        faiss.write_index(index, str(folder / FAISS_FILE))
        return {"vector_index": vector_index_kind(index)}, []

    def published(self, folder: Path, meta: dict, stale: list[str]) -> None:
        """Nothing to tidy: the file lives and dies with its generation."""

    def open(
        self, folder: Path, meta: dict, articles: dict[str, Article], chunks: tuple[Chunk, ...]
    ) -> FaissStore:
        """Load vectors.faiss."""
        return FaissStore.read(folder / FAISS_FILE)
