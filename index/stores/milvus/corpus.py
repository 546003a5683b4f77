"""The `Corpus` of a stateless replica: chunk rows and articles read from Milvus on demand.

A replica holds no corpus: each question reads its ~20-100 chunks and their few articles
through small bounded caches (hits of a search carry their chunk's fields, so reading them
costs no second round trip).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.stores.milvus.mirror import filter_expression, quote
from index.stores.milvus.rows import ReplicaConfig, alive

CHUNK_FIELDS = ["chunk_id", "article_id", "text", "start", "end"]
CHUNK_CACHE = 4096  # chunks kept per generation (~1 KiB each)
ARTICLE_CACHE = 256  # articles kept per generation, as DiskCorpus keeps
QUERY_MAX = 16_384  # Milvus's cap on the rows one query returns


class Bounded(OrderedDict):
    """A least-recently-used map of at most `size` entries."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:  # noqa: ANN001
        """Remember a value, forgetting the oldest past the bound."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def chunk_of(entity: dict) -> Chunk:
    """Return the Chunk a row's fields describe."""
    e = entity
    return Chunk(e["chunk_id"], e["article_id"], e["text"], int(e["start"]), int(e["end"]))


def article_of(parts: list[dict]) -> Article:
    """Join an article's rows (part 0 carries the metadata) into an Article."""
    parts = sorted(parts, key=lambda p: p["part"])
    aid, path, title, date, author, url, digest, item, source, also = json.loads(parts[0]["meta"])
    text = "".join(p["text"] for p in parts)
    when = datetime.fromisoformat(date) if date else None
    return Article(aid, path, title, when, author, url, text, digest, item, source, tuple(also))


class NewestFirst(Sequence[str]):
    """Article ids newest first, read from Milvus per access (a replica keeps no list)."""

    def __init__(self, corpus: MilvusCorpus) -> None:
        self._corpus = corpus

    def __len__(self) -> int:
        return self._corpus.article_count

    def __getitem__(self, i):  # noqa: ANN001 (an int or a slice)
        # Milvus 2.5 cannot order a query: fetch (id, date, title) of every article and sort.
        # Only the article list pays this, never a question.
        heads = self._corpus.each("articles", "part == 0", ["article_id", "date", "title"])
        heads.sort(key=lambda h: (h["date"] <= -(2**62), -h["date"], h["title"], h["article_id"]))
        ids = [h["article_id"] for h in heads]
        return ids[i]


class MilvusCorpus:
    """One generation's chunks and articles, read from the replica collections."""

    def __init__(self, run: Callable[[Callable], object], config: ReplicaConfig, record: dict):
        self._run = run  # runs a call on the replica's client (reconnecting; 503 if down)
        self.config = config
        self.generation = int(record["generation"])
        self._size = int(record["chunks"])
        self._articles = int(record["articles"])
        self._chunks: Bounded = Bounded(CHUNK_CACHE)
        self._article_cache: Bounded = Bounded(ARTICLE_CACHE)

    def __len__(self) -> int:
        return self._size

    @property
    def article_count(self) -> int:
        """Return how many articles the generation holds."""
        return self._articles

    def each(self, what: str, expression: str, fields: list[str]) -> list[dict]:
        """Return every row of this generation matching an expression."""
        where = alive(self.generation) + (f" and {expression}" if expression else "")

        def read(client) -> list[dict]:  # noqa: ANN001
            # One query answers most asks (an article's rows); an iterator costs more round
            # trips, so it reads only what one query cannot (a broad filter's rows).
            name = self.config.name(what)
            out = client.query(name, filter=where, output_fields=fields, limit=QUERY_MAX)
            if len(out) < QUERY_MAX:
                return out
            it = client.query_iterator(
                self.config.name(what), batch_size=1000, filter=where, output_fields=fields
            )
            out: list[dict] = []
            while batch := it.next():
                out.extend(batch)
            it.close()
            return out

        return self._run(read)

    def remember(self, row: int, entity: dict) -> None:
        """Keep a chunk a search returned with its fields."""
        self._chunks.put(row, chunk_of(entity))

    def chunk(self, row: int) -> Chunk:
        """Return the chunk at a row."""
        found = self._chunks.get(row)
        if found is None:
            rows = self._run(
                lambda c: c.query(
                    self.config.name("rows"), ids=[int(row)], output_fields=CHUNK_FIELDS
                )
            )
            if not rows:
                raise KeyError(f"no chunk row {row} in Milvus")
            found = chunk_of(rows[0])
            self._chunks.put(row, found)
        return found

    def article(self, article_id: str) -> Article | None:
        """Return an article by id, or None."""
        found = self._article_cache.get(article_id)
        if found is None:
            parts = self.each(
                "articles", f"article_id == {quote(article_id)}", ["part", "meta", "text"]
            )
            if not parts:
                return None
            found = article_of(parts)
            self._article_cache.put(article_id, found)
        return found

    def rows_of(self, article_id: str) -> np.ndarray | None:
        """Return an article's chunk rows in order (None: no such article)."""
        rows = self.each("rows", f"article_id == {quote(article_id)}", ["row", "start"])
        if not rows:
            return None if self.article(article_id) is None else np.zeros(0, dtype=np.int64)
        rows.sort(key=lambda r: r["start"])
        return np.asarray([r["row"] for r in rows], dtype=np.int64)

    def admitted(
        self, after: datetime | None, before: datetime | None, author: str | None
    ) -> np.ndarray:
        """Return the sorted chunk rows of the articles within the bounds."""
        rows = self.each("rows", filter_expression(after, before, author), ["row"])
        return np.sort(np.asarray([r["row"] for r in rows], dtype=np.int64))

    def newest_first(self) -> Sequence[str]:
        """Return the article ids, newest first (read when accessed)."""
        return NewestFirst(self)

    def locate(self, text: str) -> str | None:
        """Return the id of the first article whose text contains text."""
        # A filter expression cannot hold a newline: look for the longest line (an answer is
        # almost always one), and escape `like`'s wildcards % and _.
        line = max(text.splitlines() or [""], key=len)
        needle = line.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = f"{alive(self.generation)} and text like {quote('%' + needle + '%')}"
        hits = self._run(
            lambda c: c.query(
                self.config.name("articles"), filter=where, output_fields=["article_id"], limit=1
            )
        )
        return hits[0]["article_id"] if hits else None
