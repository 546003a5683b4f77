"""The lexical side of the index: stemmed terms and a BM25 index over the chunk texts."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import Stemmer

from index.errors import IndexFormatError

if TYPE_CHECKING:
    from index.stores.base import Scope

LEXICAL_DIR = "bm25"  # inside a generation folder, next to vectors.faiss
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves also said says one many much
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[\w$€£%]+(?:[.'’][\w]+)*")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Return the stemmed content words of text, in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


class DocumentFrequencies(Mapping[str, int]):
    """How many documents hold each term, read off a BM25 index's columns on demand."""

    def __init__(self, bm25) -> None:
        self._vocab = bm25.vocab_dict
        self._indptr = bm25.scores["indptr"]

    def _count(self, i: int) -> int:
        # bm25s adds an empty token with no column: count it (and any such) as absent.
        return int(self._indptr[i + 1] - self._indptr[i]) if i + 1 < len(self._indptr) else 0

    def get(self, term: str, default: int | None = None) -> int | None:
        """Return a term's document count, or default (no exception on the common miss)."""
        i = self._vocab.get(term)
        count = 0 if i is None else self._count(i)
        return count or default

    def __getitem__(self, term: str) -> int:
        count = self._count(self._vocab[term])
        if not count:
            raise KeyError(term)
        return count

    def __iter__(self) -> Iterator[str]:
        return (t for t, i in self._vocab.items() if self._count(i))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Lexical:
    """A BM25 index over chunk texts; document i is chunk row i, like the vectors."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: Sequence[str]) -> Lexical:
        """Index texts (tokenised with terms) with BM25."""
        import bm25s  # imported here: it pulls in scipy, which `qa --help` never needs

        bm25 = bm25s.BM25()
        bm25.index([terms(t) for t in texts], show_progress=False)
        return cls(bm25)

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        """Load a saved BM25 index; raise IndexFormatError if it is damaged."""
        import bm25s

        try:
            # Mapped: every worker shares the score matrix through the page cache.
            bm25 = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError) as err:
            raise IndexFormatError(f"BM25 index {folder} is damaged: {err}") from None
        return cls(bm25)

    def __len__(self) -> int:
        return int(self._bm25.scores["num_docs"])

    def save(self, folder: Path) -> None:
        """Write the index into folder and fsync its files (the generation must be durable)."""
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        for path in folder.iterdir():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """Return how many documents hold each term, and the number of documents.

        Read off the index (a term's column holds one score per document that has it), so a
        reader need not re-tokenise every chunk (at 1M chunks that took 33-127 s), and looked
        up per term, so a worker holds no second copy of the vocabulary.
        """
        return DocumentFrequencies(self._bm25), len(self)

    def search(self, query: str, k: int, scope: Scope | None = None) -> list[tuple[int, float]]:
        """Return up to k (row, BM25 score) pairs with a positive score, best first.

        The same call as a stateless replica's BM25 in Milvus (index/stores/milvus/replica.py).
        """
        if not len(self) or k < 1:
            return []
        return top_positive(self.scores(query), None if scope is None else scope.rows, k)

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every document for the query (0 where no term matches)."""
        tokens = terms(query)
        if not tokens:  # bm25s indexes tokens[0]: an empty list is an error there
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def top_positive(scores: np.ndarray, rows: np.ndarray | None, k: int) -> list[tuple[int, float]]:
    """Return the k best (row, score) pairs with a positive score, best first, ties by row."""
    if rows is not None:
        scores = scores[rows]
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    hits = hits[np.lexsort((hits, -scores[hits]))]
    ids = rows[hits] if rows is not None else hits
    return [(int(i), float(s)) for i, s in zip(ids, scores[hits], strict=True)]
