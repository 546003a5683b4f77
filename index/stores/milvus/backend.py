"""The Milvus implementation of the store interface: a backend that writes, a store that searches.

The FAISS file is still written beside the Milvus rows: it is the durable copy a rebuild reuses
(read only then, never by a serving process), and a generation stays readable if Milvus is lost.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.corpus import Corpus
from index.settings import Settings
from index.stores.base import EVERYTHING, Hits, Scope
from index.stores.faiss_store import FaissBackend, FaissStore
from index.stores.milvus.engine import MilvusConfig
from index.stores.milvus.mirror import MilvusSearch, RowKeys, delete_rows, row_key, sync_generation
from index.stores.milvus.rows import ReplicaConfig


def replica_config(settings: Settings) -> ReplicaConfig:
    """Return where stateless replicas' rows live, as NEWSQA_MILVUS_* describe."""
    return ReplicaConfig.of(
        settings.milvus_uri, settings.milvus_token, settings.milvus_collection, settings.index_dir
    )


class MilvusStore:
    """Dense search in Milvus for one loaded generation; filters run inside Milvus."""

    def __init__(self, search: MilvusSearch, durable: Path, size: int) -> None:
        self._search = search
        self._durable = durable
        self._size = size

    def search(self, query: np.ndarray, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Return up to k hits; a scope no filter describes is sent as a list of row ids."""
        k = min(k, self._size if scope.rows is None else len(scope.rows))
        if k < 1:
            return []
        only = None if scope.by_filters else scope.rows
        return self._search.search(query, k, scope.after, scope.before, scope.author, only)

    @cached_property
    def _faiss(self) -> FaissStore:
        return FaissStore.read(self._durable)  # the generation folder's mapped copy

    def vectors(self) -> np.ndarray:
        """Return every row's vector from the durable FAISS copy (for a rebuild)."""
        return self._faiss.vectors()


class MilvusBackend:
    """Put a generation's vectors into Milvus (a Lite file or a server collection)."""

    kind = "milvus"

    def __init__(self, config: MilvusConfig | None = None) -> None:
        self.config = config or MilvusConfig()

    @classmethod
    def from_settings(cls, settings: Settings) -> MilvusBackend | ReplicaBackend:
        """Return the backend that NEWSQA_MILVUS_* describe."""
        if settings.stateless_replicas:
            return ReplicaBackend(replica_config(settings))
        return cls(
            MilvusConfig.of(settings.milvus_uri, settings.milvus_token, settings.milvus_collection)
        )

    @property
    def is_lite(self) -> bool:
        """Return whether generations go into Lite files (one process may open each)."""
        return self.config.is_lite

    def write(
        self,
        folder: Path,
        articles: dict[str, Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        model: str,
        previous: Path | None,
    ) -> tuple[dict, list[str]]:
        """Write the durable FAISS copy, then sync the rows into Milvus."""
        meta, _ = FaissBackend().write(folder, articles, chunks, vectors, model, previous)
        RowKeys.write(folder, [row_key(c, articles[c.article_id], model) for c in chunks])
        record, stale = sync_generation(
            folder, articles, chunks, vectors, model, previous, self.config
        )
        return meta | {"milvus": record}, stale

    def published(self, folder: Path, meta: dict, stale: list[str]) -> None:
        """Delete the rows only the previous generation needed (server collections only)."""
        delete_rows(folder, meta["milvus"], stale, self.config)

    def open(self, folder: Path, meta: dict, corpus: Corpus) -> MilvusStore:
        """Connect to the Lite file or server collection the generation was built into."""
        search = MilvusSearch.open(folder, meta["milvus"], self.config)
        if len(search.keys) != len(corpus):
            raise ValueError(f"{len(search.keys)} Milvus row keys for {len(corpus)} chunks")
        return MilvusStore(search, folder, len(corpus))


class ReplicaBackend:
    """Keep the build machine's FAISS generation, and publish it for stateless replicas.

    The folder stays the build machine's source of truth (incremental builds diff against it
    and reuse its vectors); the rows replicas need go into Milvus as a diff before the folder
    switches `current`, and the Milvus record switches right after it.
    """

    kind = "faiss"  # what the build machine's own folder holds
    publishes_replicas = True  # a FAISS generation without a replica record is rewritten

    def __init__(self, config: ReplicaConfig) -> None:
        self.config = config

    @property
    def is_lite(self) -> bool:
        """Return whether replicas read a Lite file (one process may open it)."""
        return self.config.is_lite

    def write(
        self,
        folder: Path,
        articles: dict[str, Article],
        chunks: list[Chunk],
        vectors: np.ndarray,
        model: str,
        previous: Path | None,
    ) -> tuple[dict, list[str]]:
        """Write the FAISS files, then insert the rows replicas of the next generation need."""
        from index.stores.milvus.publish import prepare

        meta, _ = FaissBackend().write(folder, articles, chunks, vectors, model, previous)
        return meta | {"replica": prepare(self.config, articles, chunks, vectors, model)}, []

    def published(self, folder: Path, meta: dict, stale: list[str]) -> None:
        """Switch the replicas' record to this generation (the atomic step they follow)."""
        from index.stores.milvus.publish import switch

        switch(self.config, meta["replica"])

    def open(self, folder: Path, meta: dict, corpus: Corpus) -> FaissStore:
        """Map the FAISS files (a build machine reads its own folder)."""
        return FaissStore.read(folder)
