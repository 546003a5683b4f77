"""The articles and chunks of one generation, as a table that searches read row by row.

`Corpus` is what the pipeline asks for text: a chunk by row, an article by id, the rows an
article or a filter admits. `DiskCorpus` keeps it in mapped columns inside the generation
folder (index/columns.py), so every worker of a server shares one copy through the page
cache and opening a generation reads no text at all.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.columns import Strings, read_array, write_array, write_strings

CORPUS_DIR = "corpus"
NO_DATE = np.iinfo(np.int64).min  # undated: fails every date bound, like Filters.admits
ARTICLE_CACHE = 256  # decoded articles kept per generation: a question reads ~20-100 chunks
ID_CACHE = 4096  # decoded article ids kept per generation (~100 bytes each)


class Corpus(Protocol):
    """Chunks by row (the row shared with the vectors and BM25) and their articles."""

    def __len__(self) -> int: ...

    @property
    def article_count(self) -> int: ...

    def chunk(self, row: int) -> Chunk:
        """Return the chunk at a row, with its text."""
        ...

    def article(self, article_id: str) -> Article | None:
        """Return an article by id, or None."""
        ...

    def rows_of(self, article_id: str) -> np.ndarray | None:
        """Return an article's chunk rows in order (None: no such article)."""
        ...

    def admitted(
        self, after: datetime | None, before: datetime | None, author: str | None
    ) -> np.ndarray:
        """Return the sorted chunk rows of the articles within the bounds."""
        ...

    def newest_first(self) -> Sequence[str]:
        """Return the article ids, newest first (undated last; by title within a date)."""
        ...

    def locate(self, text: str) -> str | None:
        """Return the id of the first article whose text contains text."""
        ...


def _micros(date: datetime | None) -> int:
    return NO_DATE if date is None else round(date.timestamp() * 1_000_000)


def author_key(author: str) -> int:
    """Hash a case-folded author name into an int64, so filters compare arrays."""
    digest = hashlib.blake2b(author.casefold().encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little", signed=True)


def article_meta(a: Article) -> str:
    date = a.date.isoformat() if a.date else None
    fields = [a.id, a.path, a.title, date, a.author, a.url, a.content_hash]
    return json.dumps([*fields, a.item, a.source_hash, list(a.also_published_at)])


def write_corpus(folder: Path, articles: Sequence[Article], chunks: Sequence[Chunk]) -> None:
    """Write the corpus columns of a generation into folder/corpus."""
    out = folder / CORPUS_DIR
    out.mkdir()
    row_of = {a.id: i for i, a in enumerate(articles)}
    write_strings(out / "article_meta", map(article_meta, articles))
    write_strings(out / "article_text", (a.text for a in articles))
    dates = np.asarray([_micros(a.date) for a in articles], dtype=np.int64)
    write_array(out / "article_date.npy", dates)
    authors = np.asarray([author_key(a.author) for a in articles], dtype=np.int64)
    write_array(out / "article_author.npy", authors)
    by_id = sorted(range(len(articles)), key=lambda i: articles[i].id)
    write_array(out / "article_by_id.npy", np.asarray(by_id, dtype=np.int64))
    newest = sorted(
        range(len(articles)),
        key=lambda i: (
            articles[i].date is None,
            -(articles[i].date.timestamp() if articles[i].date else 0),
            articles[i].title,
            articles[i].id,
        ),
    )
    write_array(out / "article_newest.npy", np.asarray(newest, dtype=np.int64))
    owner = np.asarray([row_of[c.article_id] for c in chunks], dtype=np.int64)
    counts = np.bincount(owner, minlength=len(articles))
    write_array(out / "article_rows.npy", np.argsort(owner, kind="stable").astype(np.int64))
    write_array(out / "article_rows_ptr.npy", np.concatenate([[0], np.cumsum(counts)]))
    spans = np.asarray([(row_of[c.article_id], c.start, c.end) for c in chunks], dtype=np.int64)
    write_array(out / "chunk_spans.npy", spans.reshape(len(chunks), 3))
    write_strings(out / "chunk_id", (c.id for c in chunks))


def _id_reader(meta: Strings) -> Callable[[int], str]:
    """Return a cached reader of article ids by row (a bisection revisits the same rows).

    Closures over the columns, not bound methods: a cache holding `self` would keep an old
    generation's mappings alive until the cycle collector runs.
    """
    return lru_cache(maxsize=ID_CACHE)(lambda row: json.loads(meta[row])[0])


def _article_reader(meta: Strings, texts: Strings) -> Callable[[int], Article]:
    """Return a cached reader of whole articles by row (a question reads a few of them)."""

    def read(row: int) -> Article:
        aid, path, title, date, author, url, digest, item, source, also = json.loads(meta[row])
        when = datetime.fromisoformat(date) if date else None
        text = texts[row]
        return Article(aid, path, title, when, author, url, text, digest, item, source, tuple(also))

    return lru_cache(maxsize=ARTICLE_CACHE)(read)


class _Ids(Sequence[str]):
    """Article ids in the order of a row array (by id, or newest first), decoded on access."""

    def __init__(self, order: np.ndarray, article_id: Callable[[int], str]) -> None:
        self._order, self._article_id = order, article_id

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, i):  # noqa: ANN001 (an int or a slice)
        if isinstance(i, slice):
            return [self._article_id(int(r)) for r in self._order[i]]
        return self._article_id(int(self._order[i]))


class DiskCorpus:
    """A generation's articles and chunks in mapped columns; nothing is read until asked."""

    def __init__(self, folder: Path) -> None:
        d = Path(folder) / CORPUS_DIR
        self.meta = Strings(d / "article_meta")
        self.texts = Strings(d / "article_text")
        self.dates = read_array(d / "article_date.npy")
        self.authors = read_array(d / "article_author.npy")
        self.by_id = read_array(d / "article_by_id.npy")
        self.newest = read_array(d / "article_newest.npy")
        self.rows = read_array(d / "article_rows.npy")
        self.rows_ptr = read_array(d / "article_rows_ptr.npy")
        self.spans = read_array(d / "chunk_spans.npy").reshape(-1, 3)
        self.chunk_ids = Strings(d / "chunk_id")
        self.article_id = _id_reader(self.meta)  # id of the article at a row
        self.article_at = _article_reader(self.meta, self.texts)  # the article at a row
        self._ids = _Ids(self.by_id, self.article_id)
        sizes = {len(self.texts), len(self.dates), len(self.authors), len(self.by_id)}
        if sizes != {len(self.meta)} or len(self.spans) != len(self.chunk_ids):
            raise ValueError("corpus columns disagree in length")

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def article_count(self) -> int:
        """Return how many articles the generation holds."""
        return len(self.meta)

    def _row(self, article_id: str) -> int | None:
        i = bisect_left(self._ids, article_id)
        if i < len(self._ids) and self._ids[i] == article_id:
            return int(self.by_id[i])
        return None

    def article(self, article_id: str) -> Article | None:
        """Return an article by id, or None."""
        row = self._row(article_id)
        return None if row is None else self.article_at(row)

    def chunk(self, row: int) -> Chunk:
        """Return the chunk at a row; its text is cut from its article by offsets."""
        owner, start, end = (int(x) for x in self.spans[row])
        text = self.article_at(owner).text[start:end]
        return Chunk(self.chunk_ids[row], self.article_id(owner), text, start, end)

    def article_rows(self, owner: int) -> np.ndarray:
        """Return the chunk rows of the article at a row."""
        return np.asarray(self.rows[self.rows_ptr[owner] : self.rows_ptr[owner + 1]])

    def rows_of(self, article_id: str) -> np.ndarray | None:
        """Return an article's chunk rows in order (None: no such article)."""
        row = self._row(article_id)
        return None if row is None else self.article_rows(row)

    def admitted(
        self, after: datetime | None, before: datetime | None, author: str | None
    ) -> np.ndarray:
        """Return the sorted chunk rows of the articles within the bounds."""
        keep = np.ones(len(self.dates), dtype=bool)
        if author:
            keep &= np.asarray(self.authors) == author_key(author)
        if after:
            keep &= np.asarray(self.dates) >= _micros(after)
        if before:
            dates = np.asarray(self.dates)
            keep &= (dates <= _micros(before)) & (dates != NO_DATE)
        parts = [self.article_rows(int(i)) for i in np.flatnonzero(keep)]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def newest_first(self) -> Sequence[str]:
        """Return the article ids, newest first, decoded as they are read."""
        return _Ids(self.newest, self.article_id)

    def locate(self, text: str) -> str | None:
        """Return the id of the first article whose text contains text."""
        row = self.texts.find(text)
        return None if row is None else self.article_id(row)
