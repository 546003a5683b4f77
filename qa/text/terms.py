"""Word-level helpers shared by lexical scoring: tokenise, drop stop words, stem."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from index.stores.bm25 import STOPWORDS, terms

__all__ = ["STOPWORDS", "document_frequencies", "idf", "terms"]


def document_frequencies(texts: Iterable[str]) -> tuple[Counter, int]:
    """Count in how many texts each term appears; return (counts, number of texts)."""
    df: Counter = Counter()
    n = 0
    for text in texts:
        df.update(set(terms(text)))
        n += 1
    return df, n


def idf(df: Mapping[str, int], n: int, term: str) -> float:
    """Return the BM25-style inverse document frequency of a term (unknown terms score high)."""
    return math.log(1 + (n - df.get(term, 0) + 0.5) / (df.get(term, 0) + 0.5))
