"""Read-only views of a corpus as the mapping and sequences that builds, tools and tests use.

The serving path asks the corpus directly (a chunk by row, an article by id); these views
decode on access, so holding one costs nothing either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.corpus import DiskCorpus


class ArticleView(Mapping[str, Article]):
    """A corpus's articles as a read-only mapping by id (for builds, tests and tools)."""

    def __init__(self, corpus: DiskCorpus) -> None:
        self._corpus = corpus

    def __getitem__(self, article_id: str) -> Article:
        found = self._corpus.article(article_id)
        if found is None:
            raise KeyError(article_id)
        return found

    def __iter__(self) -> Iterator[str]:
        return (self._corpus.article_id(r) for r in range(self._corpus.article_count))

    def __len__(self) -> int:
        return self._corpus.article_count

    def values(self):  # noqa: ANN201 (a values view decoding each article once)
        return [self._corpus.article_at(r) for r in range(self._corpus.article_count)]


class ChunkView(Sequence[Chunk]):
    """A corpus's chunks as a read-only sequence by row."""

    def __init__(self, corpus: DiskCorpus) -> None:
        self._corpus = corpus

    def __len__(self) -> int:
        return len(self._corpus)

    def __getitem__(self, row):  # noqa: ANN001
        if isinstance(row, slice):
            return tuple(self._corpus.chunk(r) for r in range(len(self))[row])
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._corpus.chunk(int(row))


class RowsView(Mapping[str, np.ndarray]):
    """Each article's chunk rows, by article id."""

    def __init__(self, corpus: DiskCorpus) -> None:
        self._corpus = corpus

    def __getitem__(self, article_id: str) -> np.ndarray:
        rows = self._corpus.rows_of(article_id)
        if rows is None:
            raise KeyError(article_id)
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter(ArticleView(self._corpus))

    def __len__(self) -> int:
        return self._corpus.article_count
