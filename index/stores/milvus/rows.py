"""The Milvus collections a stateless replica reads: chunk rows, articles, terms, the live record.

Rows carry generation bounds instead of living in a collection per generation: a row is part
of generation g when `gen_from <= g < gen_to`. A rebuild inserts only the rows of new or
changed articles (and terms whose count changed) and closes the bounds of the rows it drops,
so it stays incremental; a replica on the previous generation keeps seeing exactly its rows
until the one-row record `current` is switched (Milvus Lite has no aliases).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

from index.errors import StoreUnavailable
from index.stores.milvus.engine import LITE, close_client, grpc_options, is_lite_uri, public_uri

OPEN = 2**62  # gen_to of a row no generation has dropped yet
PREFIX = "newsqa"  # collection names' prefix when NEWSQA_MILVUS_COLLECTION names none
REPLICA_LITE_FILE = "milvus-replica.db"  # the one Lite file of stateless mode, in the index folder
TEXT_MAX = 65_535  # Milvus's bound on a VARCHAR, in bytes
PART_CHARS = 16_000  # article text per row: 4 bytes a character at most stays under TEXT_MAX
TERMS_MAX = 16_384  # the stemmed terms of one chunk (a chunk is ~500 characters)
RECORD = "current"  # primary key of the row naming the live generation


def alive(generation: int) -> str:
    """Return the filter expression admitting the rows of one generation."""
    return f"gen_from <= {generation} and gen_to > {generation}"


@dataclass(frozen=True)
class ReplicaConfig:
    """Where the stateless rows live: a Lite file or a server URI, and the names' prefix."""

    uri: str
    token: str = ""
    prefix: str = PREFIX

    @classmethod
    def of(cls, uri: str, token: str, collection: str, index_dir: Path) -> ReplicaConfig:
        """Return the config the settings describe (empty uri: a Lite file in the index folder)."""
        return cls(uri or str(Path(index_dir) / REPLICA_LITE_FILE), token, collection or PREFIX)

    @property
    def is_lite(self) -> bool:
        """Return whether this is an embedded Milvus Lite file rather than a server."""
        return is_lite_uri(self.uri)

    def name(self, what: str) -> str:
        """Return the collection name of `what` (rows, articles, terms, generations)."""
        return f"{self.prefix}_{what}"

    def where(self) -> str:
        """Return the place, without any password, for messages and meta.json."""
        return self.uri if self.is_lite else public_uri(self.uri)


class Connection:
    """One client of the replica's Milvus; `close()` or garbage collection releases it."""

    def __init__(self, config: ReplicaConfig) -> None:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        self.config = config
        lite = config.uri if config.is_lite else None
        if lite and not Path(lite).parent.is_dir():  # Lite would raise FileNotFoundError
            raise StoreUnavailable(f"no Milvus Lite file at {lite} (build one with: qa index)")
        if lite:
            LITE.open(lite)
        try:
            options = grpc_options(bool(lite))
            self.client = MilvusClient(
                uri=config.uri, token=config.token, dedicated=True, **options
            )
        except BaseException as err:
            if lite:
                LITE.close(lite)
            if not isinstance(err, MilvusException):
                raise
            where = config.where()
            raise StoreUnavailable(f"cannot connect to Milvus at {where}: {err.message}") from err
        self._finalizer = weakref.finalize(self, close_client, self.client, lite)

    def close(self) -> None:
        """Close the connection (the last user of a Lite file stops its server)."""
        self._finalizer()


def _with_bounds(schema) -> None:
    from pymilvus import DataType

    schema.add_field("gen_from", DataType.INT64)
    schema.add_field("gen_to", DataType.INT64)


def rows_schema(dim: int):
    """Return the schema of the chunk rows: text, offsets, filters, dense and BM25 vectors."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    s.add_field("row", DataType.INT64, is_primary=True)
    _with_bounds(s)
    s.add_field("key", DataType.VARCHAR, max_length=64)  # index.stores.milvus.engine.row_key
    s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
    s.add_field("article_id", DataType.VARCHAR, max_length=1024)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field(
        "date", DataType.INT64
    )  # unix seconds, as index.stores.milvus.engine.filter_expression
    s.add_field("author", DataType.VARCHAR, max_length=1024)  # case-folded
    s.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    # The BM25 function reads newsqa's own stemmed terms (index.stores.bm25.terms), split on
    # spaces: Milvus's BM25 then ranks what the local bm25s ranks, with the same k1 and b.
    s.add_field(
        "terms",
        DataType.VARCHAR,
        max_length=TEXT_MAX,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "whitespace"},
    )
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=["sparse"],
        )
    )
    return s


def articles_schema():
    """Return the schema of the articles: metadata JSON and the text in bounded parts."""
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    _with_bounds(s)
    s.add_field("key", DataType.VARCHAR, max_length=64)  # the article's content, hashed
    s.add_field("article_id", DataType.VARCHAR, max_length=1024)
    s.add_field("part", DataType.INT64)
    s.add_field("date", DataType.INT64)
    s.add_field("title", DataType.VARCHAR, max_length=TEXT_MAX)
    s.add_field("meta", DataType.VARCHAR, max_length=TEXT_MAX)  # on part 0 only
    s.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    s.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
    return s


def terms_schema():
    """Return the schema of the term counts the reader weighs question words by."""
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    _with_bounds(s)
    s.add_field("key", DataType.VARCHAR, max_length=1100)  # term and count
    s.add_field("term", DataType.VARCHAR, max_length=1024)
    s.add_field("df", DataType.INT64)
    s.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)
    return s


def generations_schema():
    """Return the schema of the one-row record naming the live generation."""
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    s.add_field("generation", DataType.INT64)
    s.add_field("meta", DataType.VARCHAR, max_length=TEXT_MAX)
    s.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)
    return s


def ensure_collections(client, config: ReplicaConfig, dim: int) -> None:
    """Create the four collections that are missing, and load them."""
    made = {
        "rows": lambda: rows_schema(dim),
        "articles": articles_schema,
        "terms": terms_schema,
        "generations": generations_schema,
    }
    for what, schema in made.items():
        name = config.name(what)
        if not client.has_collection(name):
            params = client.prepare_index_params()
            if what == "rows":
                params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
                params.add_index(
                    field_name="sparse",
                    index_type="SPARSE_INVERTED_INDEX",
                    metric_type="BM25",
                    params={"bm25_k1": 1.5, "bm25_b": 0.75},  # bm25s's defaults
                )
            else:
                params.add_index(field_name="dummy", index_type="FLAT", metric_type="L2")
            # Strong: a replica switched to a new generation must see every row the build wrote.
            client.create_collection(
                name, schema=schema(), index_params=params, consistency_level="Strong"
            )
        client.load_collection(name)
