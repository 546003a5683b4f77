"""Chunk vectors in Milvus (Lite file or server), mirroring one index generation.

The generation on disk stays the source of truth (articles, chunks, offsets, BM25); Milvus
holds the vectors plus the scalar fields that filters need, so date/author filters run inside
Milvus. Rows are keyed by chunk id *and* content hash, so a sync is a diff: rows of changed
or removed articles are deleted, new ones inserted, unchanged ones left alone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from index.articles import Article
from index.chunking import Chunk

COLLECTION = "newsqa_chunks"
LITE_FILE = "milvus.db"  # a Lite file lives inside each generation folder (see `lite_uri`)
INSERT_BATCH = 2000  # Milvus Lite 2.5 slows down sharply on inserts above ~4,500 rows
MAX_TOPK = 16384  # Milvus's own cap on `limit`
NO_DATE = -(2**62)  # undated articles: below every bound, so a date filter excludes them


@dataclass(frozen=True)
class MilvusConfig:
    """Where Milvus is: a `.db` path means Milvus Lite, http(s):// a Milvus server."""

    uri: str
    token: str = ""
    collection: str = COLLECTION

    @property
    def is_lite(self) -> bool:
        """Return whether this is an embedded Milvus Lite file rather than a server."""
        return not self.uri.startswith(("http://", "https://", "tcp://", "grpc://"))

    @classmethod
    def from_env(cls) -> MilvusConfig:
        """Read NEWSQA_MILVUS_URI / NEWSQA_MILVUS_TOKEN (default: a Lite file per generation)."""
        return cls(
            os.environ.get("NEWSQA_MILVUS_URI", LITE_FILE),
            os.environ.get("NEWSQA_MILVUS_TOKEN", ""),
        )


def row_key(chunk: Chunk, article: Article) -> str:
    """Name a chunk's row by what it contains, so changed text never reuses a key."""
    return hashlib.sha1(f"{chunk.id}\0{article.content_hash}".encode()).hexdigest()


def _timestamp(date: datetime | None) -> int:
    return int(date.timestamp()) if date else NO_DATE


def quote(text: str) -> str:
    """Quote a string for a Milvus filter expression (newlines are rejected by Milvus)."""
    text = " ".join(text.splitlines())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(
    after: datetime | None = None, before: datetime | None = None, author: str | None = None
) -> str:
    """Build the filter expression for the given bounds (lower-case `and`: Lite 2.5 needs it)."""
    parts = []
    if after is not None:
        parts.append(f"date >= {_timestamp(after)}")
    if before is not None:
        parts.append(f"date <= {_timestamp(before)} and date > {NO_DATE}")
    if author:
        parts.append(f"author == {quote(author.casefold())}")
    return " and ".join(parts)


class MilvusVectors:
    """One Milvus collection of chunk vectors; opened by a build (sync) or a reader (search)."""

    def __init__(self, config: MilvusConfig, uri: str | None = None) -> None:
        from pymilvus import MilvusClient  # lazy: pymilvus takes a second to import

        self.config = config
        self.client = MilvusClient(uri=uri or config.uri, token=config.token)
        self.name = config.collection

    def close(self) -> None:
        """Release the connection (and stop Milvus Lite's process)."""
        self.client.close()

    def ensure_collection(self, dim: int) -> None:
        """Create the collection (FLAT, inner product) if it does not exist, and load it."""
        from pymilvus import DataType, MilvusClient

        if not self.client.has_collection(self.name):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
            schema.add_field("article_id", DataType.VARCHAR, max_length=1024)
            schema.add_field("content_hash", DataType.VARCHAR, max_length=64)
            schema.add_field("date", DataType.INT64)
            schema.add_field("author", DataType.VARCHAR, max_length=1024)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            params = self.client.prepare_index_params()
            params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
            self.client.create_collection(self.name, schema=schema, index_params=params)
        self.client.load_collection(self.name)

    def keys(self) -> set[str]:
        """Return every row key in the collection."""
        keys: set[str] = set()
        iterator = self.client.query_iterator(self.name, batch_size=1000, output_fields=["id"])
        while batch := iterator.next():
            keys.update(row["id"] for row in batch)
        iterator.close()
        return keys

    def sync(
        self, articles: dict[str, Article], chunks: Iterable[Chunk], vectors: np.ndarray
    ) -> tuple[int, int]:
        """Make the collection hold exactly these chunks; return (inserted, deleted)."""
        chunks = list(chunks)
        self.ensure_collection(vectors.shape[1])
        wanted = {row_key(c, articles[c.article_id]): i for i, c in enumerate(chunks)}
        present = self.keys()
        stale = sorted(present - set(wanted))
        for i in range(0, len(stale), INSERT_BATCH):
            self.client.delete(self.name, ids=stale[i : i + INSERT_BATCH])
        rows = []
        for key, i in wanted.items():
            if key in present:
                continue
            chunk, article = chunks[i], articles[chunks[i].article_id]
            rows.append(
                {
                    "id": key,
                    "chunk_id": chunk.id,
                    "article_id": article.id,
                    "content_hash": article.content_hash,
                    "date": _timestamp(article.date),
                    "author": article.author.casefold(),
                    "vector": vectors[i].tolist(),
                }
            )
        for i in range(0, len(rows), INSERT_BATCH):
            self.client.insert(self.name, rows[i : i + INSERT_BATCH])
        return len(rows), len(stale)

    def search(self, query: np.ndarray, k: int, expression: str = "") -> list[tuple[str, float]]:
        """Return up to k (row key, inner product) pairs for one query vector, best first."""
        hits = self.client.search(
            self.name,
            data=[np.asarray(query, dtype=np.float32).ravel().tolist()],
            limit=min(k, MAX_TOPK),
            filter=expression,
            search_params={"metric_type": "IP"},
        )
        return [(hit["id"], float(hit["distance"])) for hit in hits[0]]


def lite_uri(generation_dir: Path, config: MilvusConfig) -> str:
    """Put a Lite file inside the generation folder: Lite allows one process per file, and a
    file per generation lets a build write the next one while a server reads the current."""
    return str(Path(generation_dir) / Path(config.uri).name)


def sync_generation(
    generation_dir: Path, articles: dict[str, Article], chunks: list[Chunk], vectors: np.ndarray
) -> dict:
    """Bring Milvus in line with a generation being written; return what to record in meta."""
    config = MilvusConfig.from_env()
    uri = lite_uri(generation_dir, config) if config.is_lite else config.uri
    store = MilvusVectors(config, uri)
    try:
        inserted, deleted = store.sync(articles, chunks, vectors)
    finally:
        store.close()
    where = Path(uri).name if config.is_lite else config.uri
    return {"uri": where, "lite": config.is_lite, "inserted": inserted, "deleted": deleted}


class MilvusSearch:
    """Dense search for one loaded generation: Milvus hits mapped back to its chunk rows."""

    def __init__(self, config: MilvusConfig, uri: str, rows: dict[str, int]) -> None:
        self.config, self.uri = config, uri
        self.rows = rows  # row key -> chunk row in the generation
        self.keys = sorted(rows, key=rows.__getitem__)  # chunk row -> row key
        self.vectors = self._connect()

    def _connect(self) -> MilvusVectors:
        vectors = MilvusVectors(self.config, self.uri)
        vectors.client.load_collection(vectors.name)  # a reopened collection starts released
        return vectors

    @classmethod
    def open(
        cls, generation_dir: Path, articles: dict[str, Article], chunks: tuple[Chunk, ...]
    ) -> MilvusSearch:
        """Connect to the generation's Lite file, or to the configured server."""
        config = MilvusConfig.from_env()
        uri = lite_uri(generation_dir, config) if config.is_lite else config.uri
        rows = {row_key(c, articles[c.article_id]): i for i, c in enumerate(chunks)}
        return cls(config, uri, rows)

    def search(
        self,
        query: np.ndarray,
        k: int,
        after: datetime | None = None,
        before: datetime | None = None,
        author: str | None = None,
        only: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Return up to k (row, score) pairs; the filters run inside Milvus.

        `only` restricts the search to these chunk rows when no filter says it (a row set
        that no date/author bound describes, e.g. one article's chunks).
        """
        from pymilvus.exceptions import MilvusException

        expression = filter_expression(after, before, author)
        if not expression and only is not None:
            expression = "id in [" + ", ".join(quote(self.keys[r]) for r in only) + "]"
        try:
            hits = self.vectors.search(query, k, expression)
        except MilvusException:
            # gRPC drops idle channels (GOAWAY "too_many_pings" from Milvus Lite): reconnect once.
            self.vectors = self._connect()
            hits = self.vectors.search(query, k, expression)
        # A server collection may already hold rows of a newer generation: skip those.
        return [(self.rows[key], score) for key, score in hits if key in self.rows]
