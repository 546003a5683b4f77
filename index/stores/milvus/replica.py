"""A stateless replica: the live generation, its searches and term counts, all in Milvus.

`MilvusGenerations` stands where the index folder's `current` stands for a local server: it
names the live generation (the record row) and loads it as an `Index` whose corpus, dense
store and BM25 all ask Milvus, so the pipeline runs its one code path unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import numpy as np

from index.errors import IndexFormatError, IndexNotFound, StoreUnavailable
from index.store import Index
from index.stores.base import EVERYTHING, Hits, Scope
from index.stores.bm25 import terms
from index.stores.milvus.corpus import CHUNK_FIELDS, Bounded, MilvusCorpus
from index.stores.milvus.engine import MAX_TOPK
from index.stores.milvus.mirror import filter_expression, quote
from index.stores.milvus.publish import live_record
from index.stores.milvus.rows import Connection, ReplicaConfig, alive

T = TypeVar("T")
TERM_CACHE = 65_536  # document counts a worker remembers (~100 bytes each)


class Replica:
    """The process's one connection to the replica's Milvus; reconnects once per failure."""

    def __init__(self, config: ReplicaConfig) -> None:
        self.config = config
        self._conn: Connection | None = None

    def run(self, call: Callable[[object], T]) -> T:
        """Run a call on the client; a failed call is retried once on a new connection."""
        from pymilvus.exceptions import MilvusException

        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = Connection(self.config)
                return call(self._conn.client)
            except MilvusException as err:
                # A server restarted or a network blip: drop the connection, try once more.
                stale, self._conn = self._conn, None
                if stale is not None:
                    stale.close()
                if attempt == 2:
                    raise StoreUnavailable(f"Milvus failed: {err.message}") from err
        raise AssertionError("unreachable")


def scope_expression(generation: int, scope: Scope) -> str:
    """Return the filter expression of a scope within one generation."""
    parts = [alive(generation)]
    if scope.by_filters:
        parts.append(filter_expression(scope.after, scope.before, scope.author))
    elif scope.rows is not None:
        parts.append("row in [" + ", ".join(str(int(r)) for r in scope.rows) + "]")
    return " and ".join(parts)


class ReplicaSearch:
    """Dense and BM25 search of one generation inside Milvus, its hits remembered as chunks."""

    def __init__(self, replica: Replica, corpus: MilvusCorpus) -> None:
        self.replica, self.corpus = replica, corpus
        self.name = replica.config.name("rows")

    def _search(self, data: list, field: str, metric: str, k: int, scope: Scope) -> Hits:
        k = min(k, len(self.corpus) if scope.rows is None else len(scope.rows), MAX_TOPK)
        if k < 1:
            return []
        hits = self.replica.run(
            lambda c: c.search(
                self.name,
                data=data,
                anns_field=field,
                limit=k,
                filter=scope_expression(self.corpus.generation, scope),
                search_params={"metric_type": metric},
                output_fields=CHUNK_FIELDS,
            )
        )[0]
        for hit in hits:
            self.corpus.remember(int(hit["id"]), hit["entity"])
        return [(int(hit["id"]), float(hit["distance"])) for hit in hits]


class ReplicaStore(ReplicaSearch):
    """The VectorStore of a replica: cosine search in Milvus, filters as expressions."""

    def search(self, query: np.ndarray, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Return up to k (row, cosine) pairs from the scope, best first."""
        vector = np.asarray(query, dtype=np.float32).ravel().tolist()
        return self._search([vector], "vector", "IP", k, scope)

    def vectors(self) -> np.ndarray:
        """Refuse: a replica holds no vectors, and builds read the build machine's folder."""
        raise NotImplementedError("a stateless replica has no vectors to rebuild from")


class TermCounts(Mapping[str, int]):
    """Document counts of terms in one generation, asked of Milvus and remembered (bounded)."""

    def __init__(self, replica: Replica, generation: int) -> None:
        self.replica, self.generation = replica, generation
        self._known: Bounded = Bounded(TERM_CACHE)

    def prefetch(self, words: list[str]) -> None:
        """Ask for the counts of several terms in one query (a question's terms)."""
        missing = sorted({w for w in words if w not in self._known})
        if not missing:
            return
        where = f"{alive(self.generation)} and term in [{', '.join(map(quote, missing))}]"
        rows = self.replica.run(
            lambda c: c.query(
                self.replica.config.name("terms"), filter=where, output_fields=["term", "df"]
            )
        )
        found = {r["term"]: int(r["df"]) for r in rows}
        for word in missing:
            self._known.put(word, found.get(word, 0))

    def get(self, term: str, default: int | None = None) -> int | None:
        """Return a term's document count, or default."""
        self.prefetch([term])
        return self._known.get(term) or default

    def __getitem__(self, term: str) -> int:
        count = self.get(term)
        if not count:
            raise KeyError(term)
        return count

    def __iter__(self) -> Iterator[str]:
        return iter(())  # never listed: the reader looks terms up one by one

    def __len__(self) -> int:
        return 0


class ReplicaLexical(ReplicaSearch):
    """BM25 in Milvus over newsqa's own stemmed terms (the `terms` field's BM25 function)."""

    def __init__(self, replica: Replica, corpus: MilvusCorpus) -> None:
        super().__init__(replica, corpus)
        self.counts = TermCounts(replica, corpus.generation)

    def __len__(self) -> int:
        return len(self.corpus)

    def search(self, query: str, k: int, scope: Scope = EVERYTHING) -> Hits:
        """Return up to k (row, BM25 score) pairs from the scope, best first."""
        words = terms(query)
        if not words:
            return []
        self.counts.prefetch(words)  # the reader weighs these words next
        return self._search([" ".join(words)], "sparse", "BM25", k, scope)

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """Return the term counts (looked up in Milvus) and the number of chunks."""
        return self.counts, len(self.corpus)


class MilvusGenerations:
    """The live generation as the record in Milvus names it; what a replica follows."""

    def __init__(self, config: ReplicaConfig, path: Path | None = None) -> None:
        self.replica = Replica(config)
        self.path = Path(path) if path else Path(config.where())

    def _record(self) -> dict | None:
        return self.replica.run(lambda c: live_record(c, self.replica.config))

    def current(self) -> str | None:
        """Return the live generation's name, or None before the first build."""
        record = self._record()
        return None if record is None else record["name"]

    def load(self, model: str | None = None) -> Index:
        """Return the live generation, every part of it read from Milvus."""
        record = self._record()
        if record is None:
            raise IndexNotFound(f"no generation in Milvus at {self.replica.config.where()}")
        if model is not None and record.get("model") != model:
            raise IndexFormatError(
                f"the Milvus generation was built with model {record.get('model')!r}, "
                f"not {model!r}; rebuild it with: qa index --full"
            )
        corpus = MilvusCorpus(self.replica.run, self.replica.config, record)
        meta = record | {"store": "milvus", "stateless": True}
        store, lexical = ReplicaStore(self.replica, corpus), ReplicaLexical(self.replica, corpus)
        return Index(self.path, record["name"], meta, corpus, store, lexical)
