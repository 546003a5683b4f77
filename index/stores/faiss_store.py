"""The FAISS store: every row's vector in a mapped vectors.npy, an IVF index from 20,000 rows up."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.corpus import Corpus
from index.stores.base import EVERYTHING, Hits, Scope

FAISS_FILE = "vectors.faiss"  # the IVF index, from IVF_THRESHOLD chunks up
VECTORS_FILE = "vectors.npy"  # every row's vector, float32: mapped, shared by all workers

# Exact search scans every vector: one query on one core costs ~0.05-0.1 ms per 1,000 chunks
# (1 ms at 17k, 10 ms at 100k, 80-120 ms at 1M). Past 20,000 chunks an approximate index takes
# over. It is IVF, not HNSW: FAISS maps an IVF file's inverted lists (IO_FLAG_MMAP), so every
# worker shares one copy through the page cache, while this FAISS reads HNSW and flat indexes
# into private memory whatever the flags (bench/shared.py measures both).
IVF_THRESHOLD = 20_000
IVF_TRAIN_PER_LIST = 40  # k-means sample: 40 points per list is FAISS's own lower bound
# nprobe grows with the index: lists of ~sqrt(n) vectors, and enough of them that the dense
# list of 50 stays close to exact: recall@50 on the seeds' real embeddings (136 lists) was
# 0.93 with 32 probes, 0.987 with 64, 0.999 with 96. Set on every load: tunable.
IVF_NPROBE = 64
IVF_NPROBE_MAX = 256


def ivf_lists(n: int) -> int:
    """Return the number of IVF lists for n vectors: ~4 sqrt(n), at least 64 (tiny: n / 4)."""
    return max(1, min(max(64, int(4 * n**0.5)), n // 4))


def ivf_search_breadth(nlist: int) -> int:
    """Return the nprobe for an IVF index of nlist lists: nlist / 32 within [64, 256]."""
    return max(IVF_NPROBE, min(IVF_NPROBE_MAX, nlist // 32))


def make_vector_index(vectors: np.ndarray) -> faiss.Index:
    """Build the FAISS index for these unit vectors: exact below IVF_THRESHOLD, IVF above."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < IVF_THRESHOLD:
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        nlist = ivf_lists(len(vectors))
        quantizer = faiss.IndexFlatIP(vectors.shape[1])
        index = faiss.IndexIVFFlat(quantizer, vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        index.cp.min_points_per_centroid = 1  # small indexes in tests: no warning per build
        quantizer.this.disown()  # the IVF index frees it
        sample = np.random.default_rng(0).permutation(len(vectors))[: nlist * IVF_TRAIN_PER_LIST]
        index.train(vectors[np.sort(sample)])
        index.nprobe = ivf_search_breadth(nlist)
    if len(vectors):
        index.add(vectors)
    return index


def vector_index_kind(index: faiss.Index | None) -> str:
    """Name the kind of a FAISS index: 'flat', 'ivf' or 'hnsw' (meta.json, benchmarks)."""
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def _top(scores: np.ndarray, rows: np.ndarray | None, k: int) -> Hits:
    """Return the k best (row, score) pairs, best first, ties by row."""
    best = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
    best = best[np.lexsort((best, -scores[best]))]
    ids = best if rows is None else rows[best]
    return [(int(i), float(scores[j])) for i, j in zip(ids, best, strict=True)]


class FaissStore:
    """Vectors searched in place: exact over the mapped rows, or through a mapped IVF index.

    `index` alone (an index in memory, as tests and the benchmarks make) works too; `vectors`
    alone means exact search over them.
    """

    def __init__(self, index: faiss.Index | None, vectors: np.ndarray | None = None) -> None:
        if index is None and vectors is None:
            raise ValueError("a FaissStore needs an index or the vectors")
        self.index = index
        self._vectors = vectors

    @classmethod
    def read(cls, folder: Path) -> FaissStore:
        """Map a generation's vectors (and its IVF index, if it has one) read-only."""
        from index.columns import read_array

        vectors = read_array(Path(folder) / VECTORS_FILE)
        if vectors.ndim != 2:
            raise ValueError(f"{VECTORS_FILE} is not a matrix")
        path = Path(folder) / FAISS_FILE
        index = None
        if path.exists():
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            if isinstance(index, faiss.IndexIVF):
                index.nprobe = ivf_search_breadth(index.nlist)
            if index.ntotal != len(vectors):
                raise ValueError(
                    f"{FAISS_FILE} has {index.ntotal} rows, {VECTORS_FILE} {len(vectors)}"
                )
        return cls(index, vectors)

    def __len__(self) -> int:
        return int(self.index.ntotal) if self._vectors is None else len(self._vectors)

    def vectors(self) -> np.ndarray:
        """Return every row's vector (for reuse by a rebuild; mapped, not copied)."""
        if self._vectors is not None:
            return self._vectors
        if self.index.ntotal == 0:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_n(0, self.index.ntotal)

    def _exact(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> Hits:
        vectors = self.vectors()
        block = vectors if rows is None else vectors[rows]
        return _top(np.asarray(block @ query[0], dtype=np.float32), rows, k)

    def search(self, query: np.ndarray, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Search the admitted rows only, so that filtering precedes ranking."""
        rows = scope.rows
        k = min(k, len(self) if rows is None else len(rows))
        if k < 1:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if self.index is None or (
            self._vectors is not None and vector_index_kind(self.index) == "flat"
        ):
            return self._exact(query, k, rows)
        params = None
        if rows is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
            if isinstance(self.index, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, 64))
            elif isinstance(self.index, faiss.IndexIVF):
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe)
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(query, k, params=params)
        hits = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        if rows is not None and len(hits) < k:
            # An approximate index (IVF, HNSW) may miss admitted rows behind a selective
            # filter: a filtered query must still get k results, so score them exactly.
            if self._vectors is None:
                if isinstance(self.index, faiss.IndexIVF) and not self.index.direct_map.type:
                    self.index.make_direct_map()  # an IVF built in memory (tests, benchmarks)
                found = self.index.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))
                return _top(np.asarray(found @ query[0], dtype=np.float32), rows, k)
            return self._exact(query, k, rows)
        return hits


class FaissBackend:
    """Keep the vectors in the generation folder: vectors.npy, plus an IVF file from 20k rows."""

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
        """Write vectors.npy, and vectors.faiss (IVF) from IVF_THRESHOLD rows up."""
        from index.columns import write_array

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        write_array(folder / VECTORS_FILE, vectors)
        if len(vectors) < IVF_THRESHOLD:
            return {"vector_index": "flat"}, []
        index = make_vector_index(vectors)
        faiss.write_index(index, str(folder / FAISS_FILE))
        with open(folder / FAISS_FILE, "rb") as fh:
            os.fsync(fh.fileno())
        return {"vector_index": vector_index_kind(index)}, []

    def published(self, folder: Path, meta: dict, stale: list[str]) -> None:
        """Nothing to tidy: the file lives and dies with its generation."""

    def open(self, folder: Path, meta: dict, corpus: Corpus) -> FaissStore:
        """Map vectors.npy (and vectors.faiss)."""
        return FaissStore.read(folder)
