"""Write a generation into the replica collections as a diff, then switch the live record.

Only rows whose content is new get inserted (a changed article's chunks, a term whose count
moved); rows the new generation drops get their `gen_to` closed (an upsert of the same row:
Milvus 2.5 has no partial update). The generation becomes live with one upsert of the record
row, the atomic step a replica follows.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.corpus import article_meta
from index.stores.bm25 import terms
from index.stores.milvus.engine import INSERT_BATCH
from index.stores.milvus.mirror import row_key, timestamp
from index.stores.milvus.rows import (
    OPEN,
    PART_CHARS,
    RECORD,
    TERMS_MAX,
    Connection,
    ReplicaConfig,
    alive,
    ensure_collections,
)

T = TypeVar("T")

# The fields each collection stores (the BM25 `sparse` field is the function's output).
FIELDS = {
    "rows": [
        "row",
        "gen_from",
        "gen_to",
        "key",
        "chunk_id",
        "article_id",
        "start",
        "end",
        "date",
        "author",
        "text",
        "terms",
        "vector",
    ],
    "articles": [
        "id",
        "gen_from",
        "gen_to",
        "key",
        "article_id",
        "part",
        "date",
        "title",
        "meta",
        "text",
        "dummy",
    ],
    "terms": ["id", "gen_from", "gen_to", "key", "term", "df", "dummy"],
}
PRIMARY = {"rows": "row", "articles": "id", "terms": "id"}


@dataclass(frozen=True)
class Synced:
    """What one collection's diff did."""

    inserted: int
    closed: int
    next_id: int


def live_record(client, config: ReplicaConfig) -> dict | None:
    """Return the live generation's record (its number and meta), or None before the first."""
    name = config.name("generations")
    if not client.has_collection(name):
        return None
    found = client.query(name, ids=[RECORD], output_fields=["generation", "meta"])
    if not found:
        return None
    return {"generation": int(found[0]["generation"])} | json.loads(found[0]["meta"])


def _view(client, name: str, pk: str, generation: int) -> dict[str, tuple[int, int]]:
    """Return key -> (primary key, gen_to) of the rows one generation sees."""
    out: dict[str, tuple[int, int]] = {}
    it = client.query_iterator(
        name, batch_size=1000, filter=alive(generation), output_fields=[pk, "key", "gen_to"]
    )
    while batch := it.next():
        out.update((r["key"], (int(r[pk]), int(r["gen_to"]))) for r in batch)
    it.close()
    return out


def _rewrite(client, what: str, name: str, ids: list[int], gen_to: int) -> None:
    """Upsert whole rows with a new gen_to (read back first: no partial update in 2.5)."""
    for i in range(0, len(ids), INSERT_BATCH):
        rows = client.query(name, ids=ids[i : i + INSERT_BATCH], output_fields=FIELDS[what])
        client.upsert(name, [{f: r[f] for f in FIELDS[what]} | {"gen_to": gen_to} for r in rows])


def sync(
    client,
    config: ReplicaConfig,
    what: str,
    generation: int,
    wanted: Mapping[str, T],
    fields: Callable[[T], dict],
    next_id: int,
) -> Synced:
    """Make generation `generation` see exactly the `wanted` rows (key -> what `fields` turns
    into a row's fields; called only for rows that are inserted)."""
    name, pk = config.name(what), PRIMARY[what]
    previous = generation - 1
    client.delete(name, filter=f"gen_from >= {generation}")  # a crashed build's rows
    client.delete(name, filter=f"gen_to <= {previous}")  # rows no live replica can see
    seen = _view(client, name, pk, previous)
    close = [row for key, (row, _) in seen.items() if key not in wanted]
    reopen = [row for key, (row, to) in seen.items() if key in wanted and to != OPEN]
    _rewrite(client, what, name, close, generation)
    _rewrite(client, what, name, reopen, OPEN)  # closed by a build that then crashed
    batch: list[dict] = []
    inserted = 0
    for key, value in wanted.items():
        if key in seen:
            continue
        bounds = {pk: next_id, "key": key, "gen_from": generation, "gen_to": OPEN}
        batch.append(fields(value) | bounds)
        next_id += 1
        if len(batch) == INSERT_BATCH:  # a batch at a time: a first build of 1M rows is ~9 GB
            client.insert(name, batch)  # as Python lists of floats
            inserted, batch = inserted + len(batch), []
    if batch:
        client.insert(name, batch)
    return Synced(inserted + len(batch), len(close), next_id)


def _chunk_keys(articles: dict[str, Article], chunks: list[Chunk], model: str) -> dict[str, int]:
    return {row_key(c, articles[c.article_id], model): i for i, c in enumerate(chunks)}


def _chunk_fields(
    articles: dict[str, Article], chunks: list[Chunk], vectors: np.ndarray
) -> Callable[[int], dict]:
    """Return the fields of chunk i (tokenised and converted only when it is inserted)."""

    def fields(i: int) -> dict:
        chunk = chunks[i]
        a = articles[chunk.article_id]
        return {
            "chunk_id": chunk.id,
            "article_id": a.id,
            "start": chunk.start,
            "end": chunk.end,
            "date": timestamp(a.date),
            "author": a.author.casefold(),
            "text": chunk.text,
            "terms": " ".join(terms(chunk.text))[:TERMS_MAX] or "-",
            "vector": np.asarray(vectors[i], dtype=np.float32).tolist(),
        }

    return fields


def _article_parts(articles: Iterable[Article]) -> dict[str, tuple[Article, int, str]]:
    """Return each part's key -> (article, part number, metadata JSON)."""
    out = {}
    for a in articles:
        meta = article_meta(a)
        digest = hashlib.sha1(f"{meta}\0{a.content_hash}".encode()).hexdigest()
        for n in range(max(1, -(-len(a.text) // PART_CHARS))):
            out[f"{digest}:{n}"] = (a, n, meta)
    return out


def _article_fields(part: tuple[Article, int, str]) -> dict:
    a, n, meta = part
    return {
        "article_id": a.id,
        "part": n,
        "date": timestamp(a.date),
        "title": a.title if n == 0 else "",
        "meta": meta if n == 0 else "",
        "text": a.text[n * PART_CHARS : (n + 1) * PART_CHARS],
        "dummy": [0.0, 0.0],
    }


def _term_rows(chunks: list[Chunk]) -> dict[str, dict]:
    df: Counter = Counter()
    for chunk in chunks:
        df.update(set(terms(chunk.text)))
    return {f"{t}\0{n}": {"term": t, "df": n, "dummy": [0.0, 0.0]} for t, n in df.items()}


def prepare(
    config: ReplicaConfig,
    articles: dict[str, Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    model: str,
) -> dict:
    """Insert the next generation's new rows and close its dropped ones; return its record.

    Nothing a replica reads changes until `switch` publishes the record.
    """
    conn = Connection(config)
    try:
        client = conn.client
        ensure_collections(client, config, int(vectors.shape[1]))
        live = live_record(client, config) or {"generation": 0, "next_id": {}}
        generation = live["generation"] + 1
        wanted = {
            "rows": (
                _chunk_keys(articles, chunks, model),
                _chunk_fields(articles, chunks, vectors),
            ),
            "articles": (_article_parts(articles.values()), _article_fields),
            "terms": (_term_rows(chunks), dict),
        }
        done = {
            what: sync(client, config, what, generation, rows, fields,
                       live["next_id"].get(what, 0))
            for what, (rows, fields) in wanted.items()
        }  # fmt: skip
    finally:
        conn.close()
    return {
        "generation": generation,
        "name": f"gen-{generation:06d}",
        "model": model,
        "dim": int(vectors.shape[1]),
        "chunks": len(chunks),
        "articles": len(articles),
        "built": datetime.now().astimezone().isoformat(timespec="seconds"),
        "next_id": {what: s.next_id for what, s in done.items()},
        "inserted": {what: s.inserted for what, s in done.items()},
        "closed": {what: s.closed for what, s in done.items()},
        "uri": config.where(),
        "prefix": config.prefix,
    }


def switch(config: ReplicaConfig, record: dict) -> None:
    """Make a prepared generation live: one upsert of the record row, atomic in Milvus."""
    conn = Connection(config)
    try:
        meta = {k: v for k, v in record.items() if k != "generation"}
        conn.client.upsert(
            config.name("generations"),
            [
                {
                    "id": RECORD,
                    "generation": record["generation"],
                    "meta": json.dumps(meta),
                    "dummy": [0.0, 0.0],
                }
            ],
        )
    finally:
        conn.close()
