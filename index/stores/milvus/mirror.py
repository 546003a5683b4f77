"""Chunk vectors in Milvus (Lite file or server), mirroring one index generation.

The generation on disk stays the source of truth (articles, chunks, offsets, BM25); Milvus
holds the vectors plus the scalar fields that filters need, so date/author filters run inside
Milvus. Rows are keyed by chunk id *and* content hash, so a sync is a diff: rows of changed
or removed articles are deleted, new ones inserted, unchanged ones left alone.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from index.articles import Article
from index.chunking import INDEXED_TEXT, Chunk
from index.errors import StoreUnavailable
from index.stores.milvus.engine import (
    COLLECTION,
    INSERT_BATCH,
    LITE,
    MAX_TOPK,
    NO_DATE_SECONDS,
    MilvusConfig,
    close_client,
    copy_lite_file,
    grpc_options,
    lite_uri,
    public_uri,
)

log = logging.getLogger(__name__)

ROW_KEYS = 2  # version of `row_key`, recorded in meta.json and checked on load


def row_key(chunk: Chunk, article: Article, model: str) -> str:
    """Name a chunk's row by what it contains and which model embedded it, so changed text or
    a new model of the same dimension never reuses a key (and never keeps the old vector);
    INDEXED_TEXT too, so rows that embedded other text are replaced."""
    key = f"{model}\0{INDEXED_TEXT}\0{chunk.id}\0{article.content_hash}"
    return hashlib.sha1(key.encode()).hexdigest()


def timestamp(date: datetime | None) -> int:
    return int(date.timestamp()) if date else NO_DATE_SECONDS


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
        parts.append(f"date >= {timestamp(after)}")
    if before is not None:
        parts.append(f"date <= {timestamp(before)} and date > {NO_DATE_SECONDS}")
    if author:
        parts.append(f"author == {quote(author.casefold())}")
    return " and ".join(parts)


class MilvusVectors:
    """One Milvus collection of chunk vectors; opened by a build (sync) or a reader (search).

    Each instance owns its connection (and its share of a Lite server): `close()` or garbage
    collection releases both, so a dropped index generation stops its Lite process.
    """

    def __init__(self, config: MilvusConfig, uri: str | None = None) -> None:
        from pymilvus import MilvusClient  # lazy: pymilvus takes a second to import
        from pymilvus.exceptions import MilvusException

        self.config = config
        self.name = config.collection or COLLECTION
        uri = uri or config.uri
        lite_path = uri if config.is_lite else None
        options = grpc_options(bool(lite_path))
        if lite_path:
            LITE.open(lite_path)
        try:
            # dedicated: pymilvus otherwise shares one channel per address and never closes it.
            self.client = MilvusClient(uri=uri, token=config.token, dedicated=True, **options)
        except BaseException as err:
            if lite_path:
                LITE.close(lite_path)
            if not isinstance(err, MilvusException):
                raise
            where = uri if lite_path else public_uri(uri)
            raise StoreUnavailable(f"cannot connect to Milvus at {where}: {err.message}") from err
        self._finalizer = weakref.finalize(self, close_client, self.client, lite_path)

    def close(self) -> None:
        """Close the connection; the last user of a Lite file also stops its server."""
        self._finalizer()

    def ensure_collection(self, dim: int) -> None:
        """Create the collection (FLAT, inner product) unless it exists with this dimension."""
        from pymilvus import DataType, MilvusClient

        if self.client.has_collection(self.name) and self.dim() != dim:
            self.client.drop_collection(self.name)  # another model: no row can be kept
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

    def dim(self) -> int | None:
        """Return the dimension of the collection's vectors."""
        fields = self.client.describe_collection(self.name)["fields"]
        return next((f["params"]["dim"] for f in fields if f["name"] == "vector"), None)

    def keys(self) -> set[str]:
        """Return every row key in the collection."""
        keys: set[str] = set()
        iterator = self.client.query_iterator(self.name, batch_size=1000, output_fields=["id"])
        while batch := iterator.next():
            keys.update(row["id"] for row in batch)
        iterator.close()
        return keys

    def sync(
        self,
        articles: dict[str, Article],
        chunks: Iterable[Chunk],
        vectors: np.ndarray,
        model: str,
    ) -> tuple[int, list[str]]:
        """Insert the rows these chunks lack; return (inserted, keys of rows no chunk wants).

        Deleting those rows is a separate step (`delete`), so that a shared collection keeps
        the previous generation whole until the new one is published.
        """
        chunks = list(chunks)
        self.ensure_collection(vectors.shape[1])
        wanted = {row_key(c, articles[c.article_id], model): i for i, c in enumerate(chunks)}
        present = self.keys()
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
                    "date": timestamp(article.date),
                    "author": article.author.casefold(),
                    "vector": vectors[i].tolist(),
                }
            )
        for i in range(0, len(rows), INSERT_BATCH):
            self.client.insert(self.name, rows[i : i + INSERT_BATCH])
        return len(rows), sorted(present - set(wanted))

    def delete(self, keys: list[str]) -> None:
        """Delete these rows."""
        for i in range(0, len(keys), INSERT_BATCH):
            self.client.delete(self.name, ids=keys[i : i + INSERT_BATCH])

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


def sync_generation(
    generation_dir: Path,
    articles: dict[str, Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    model: str,
    previous: Path | None = None,
    config: MilvusConfig | None = None,
) -> tuple[dict, list[str]]:
    """Put a generation being written into Milvus; return its meta record and the keys of
    rows to delete once it is published (always none for Lite: its file is its own).

    A Lite generation starts from a copy of the previous generation's Lite file, so a rebuild
    writes only the rows that changed (Lite inserts ~5,000 rows/s idle, ~800 on a busy machine).
    """
    config = (config or MilvusConfig()).for_index(Path(generation_dir).parent)
    uri = lite_uri(generation_dir, config) if config.is_lite else config.uri
    copied = (
        config.is_lite
        and previous is not None
        and copy_lite_file(Path(lite_uri(previous, config)), Path(uri))
    )
    store = MilvusVectors(config, uri)
    try:
        inserted, stale = store.sync(articles, chunks, vectors, model)
        if config.is_lite:
            store.delete(stale)
    finally:
        store.close()
    record = {
        "uri": Path(uri).name if config.is_lite else public_uri(config.uri),
        "lite": config.is_lite,
        "collection": config.collection,
        "keys": ROW_KEYS,
        "copied_previous": copied,
        "inserted": inserted,
        "deleted": len(stale),
    }
    return record, [] if config.is_lite else stale


def delete_rows(
    generation_dir: Path, record: dict, keys: list[str], config: MilvusConfig | None = None
) -> None:
    """Delete rows a published generation no longer needs (from a shared server collection).

    The generation is already live: if the server is gone now, the rows only cost space and
    the next build's diff deletes them, so this warns instead of failing the build.
    """
    from pymilvus.exceptions import MilvusException

    if not keys:
        return
    try:
        store = MilvusVectors((config or MilvusConfig()).reading(generation_dir, record))
        try:
            store.delete(keys)
        finally:
            store.close()
    except (StoreUnavailable, MilvusException) as err:
        log.warning("left %d old rows in Milvus for the next build to delete: %s", len(keys), err)


KEYS_FILE = "milvus_keys.npy"  # row keys by chunk row (40 hex digits each)
KEY_ORDER_FILE = "milvus_key_order.npy"  # chunk rows in the order of their keys


class RowKeys:
    """A generation's Milvus row keys, mapped: chunk row -> key, and key -> row by bisection.

    A dict of a million keys cost each worker ~150 MiB; the mapped arrays are shared.
    """

    def __init__(self, keys: np.ndarray, order: np.ndarray) -> None:
        self._keys, self._order = keys, order

    @staticmethod
    def write(folder: Path, keys: list[str]) -> None:
        """Write the keys of a generation's chunks, by row, and their sorted order."""
        from index.columns import write_array

        array = np.asarray(keys, dtype="S40").reshape(len(keys))
        write_array(Path(folder) / KEYS_FILE, array)
        write_array(Path(folder) / KEY_ORDER_FILE, np.argsort(array, kind="stable"))

    @classmethod
    def read(cls, folder: Path) -> RowKeys:
        """Map the key arrays of a generation."""
        from index.columns import read_array

        return cls(read_array(Path(folder) / KEYS_FILE), read_array(Path(folder) / KEY_ORDER_FILE))

    def __len__(self) -> int:
        return len(self._keys)

    def key(self, row: int) -> str:
        """Return the key of a chunk row."""
        return self._keys[row].decode("ascii")

    def row(self, key: str) -> int | None:
        """Return the chunk row of a key, or None if this generation has no such row."""
        needle = key.encode("ascii")
        lo, hi = 0, len(self._order)
        while lo < hi:  # bisect over keys[order] without building that array
            mid = (lo + hi) // 2
            if self._keys[self._order[mid]] < needle:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self._order) and self._keys[self._order[lo]] == needle:
            return int(self._order[lo])
        return None


class MilvusSearch:
    """Dense search for one loaded generation: Milvus hits mapped back to its chunk rows."""

    def __init__(self, config: MilvusConfig, keys: RowKeys) -> None:
        self.config = config
        self.keys = keys  # chunk row <-> row key, mapped from the generation folder
        self.vectors = self._connect()

    def _connect(self) -> MilvusVectors:
        vectors = MilvusVectors(self.config)
        vectors.client.load_collection(vectors.name)  # a reopened collection starts released
        return vectors

    @classmethod
    def open(
        cls, generation_dir: Path, record: dict, config: MilvusConfig | None = None
    ) -> MilvusSearch:
        """Connect to the Lite file or the server collection this generation was built into."""
        config = (config or MilvusConfig()).reading(generation_dir, record)
        return cls(config, RowKeys.read(generation_dir))

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
        expression = filter_expression(after, before, author)
        if not expression and only is not None:
            expression = "id in [" + ", ".join(quote(self.keys.key(r)) for r in only) + "]"
        limit = min(k, MAX_TOPK)
        while True:
            hits = self._search(query, limit, expression)
            # A shared server collection may hold rows of a newer generation (inserted before
            # it is published) or an older one (deleted after): skip them, and ask for more
            # if they crowded out some of ours.
            rows = [(self.keys.row(key), score) for key, score in hits]
            mine = [(row, score) for row, score in rows if row is not None]
            if len(mine) >= k or len(hits) < limit or limit == MAX_TOPK:
                return mine[:k]
            limit = min(limit * 4, MAX_TOPK)

    def _search(self, query: np.ndarray, limit: int, expression: str) -> list[tuple[str, float]]:
        from pymilvus.exceptions import MilvusException

        try:
            return self.vectors.search(query, limit, expression)
        except MilvusException:
            # A server restarted or a network blip: open a new connection and try once more.
            stale, self.vectors = self.vectors, self._connect()
            stale.close()
            try:
                return self.vectors.search(query, limit, expression)
            except MilvusException as err:
                raise StoreUnavailable(f"Milvus search failed: {err.message}") from err
