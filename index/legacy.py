"""Read a format-2 generation (before #14) once, so the first build after an upgrade reuses its
vectors instead of embedding every chunk again.

Format 2 kept articles.jsonl, chunks.jsonl and vectors.faiss (flat or HNSW). Their rows are
converted into format 3's columns in a scratch folder, and the build plans against that as it
would against any previous generation. A server never reads format 2: it waits for the build.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import faiss

from index.articles import Article
from index.chunking import Chunk
from index.columns import write_array
from index.corpus import DiskCorpus, write_corpus
from index.errors import IndexFormatError
from index.stores.faiss_store import VECTORS_FILE, FaissStore

LEGACY_FORMAT = 2


def article_from_row(row: dict) -> Article:
    """Return the article of one articles.jsonl row."""
    # Rows written before #16 lack item, source_hash and also_published_at: the defaults apply.
    date = datetime.fromisoformat(row["date"]) if row.get("date") else None
    also = tuple(row.get("also_published_at") or ())
    return Article(**{**row, "date": date, "also_published_at": also})


def _articles(gen: Path) -> list[Article]:
    with open(gen / "articles.jsonl", encoding="utf-8") as fh:
        return [article_from_row(json.loads(line)) for line in fh]


def _chunks(gen: Path, articles: dict[str, Article]) -> list[Chunk]:
    out = []
    with open(gen / "chunks.jsonl", encoding="utf-8") as fh:
        for line in fh:
            cid, aid, start, end = json.loads(line)
            out.append(Chunk(cid, aid, articles[aid].text[start:end], start, end))
    return out


def convert(gen: Path, meta: dict, scratch: Path) -> tuple[DiskCorpus, FaissStore]:
    """Return the corpus and the vectors of a format-2 generation, written into scratch."""
    try:
        articles = _articles(gen)
        chunks = _chunks(gen, {a.id: a for a in articles})
        index = faiss.read_index(str(gen / "vectors.faiss"))
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexFormatError(f"format-2 index {gen} is unreadable: {err}") from None
    if vectors is None or len(vectors) != len(chunks) or meta.get("store") != "faiss":
        raise IndexFormatError(f"format-2 index {gen} cannot be reused (store or sizes)")
    scratch.mkdir(parents=True, exist_ok=True)
    write_corpus(scratch, articles, chunks)
    write_array(scratch / VECTORS_FILE, vectors)
    return DiskCorpus(scratch), FaissStore.read(scratch)
