"""Show a passage once: drop snippets that repeat one already shown (overlap or near-copy)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

NEAR_COPY = 0.8  # share of word pairs two snippets must have in common to count as one
SAME_PLACE = 0.5  # share of the shorter snippet two spans of one article must overlap by
_WORD = re.compile(r"\w+")


class Located(Protocol):
    """Anything with a text and a place in an article (a Snippet)."""

    @property
    def text(self) -> str: ...
    @property
    def article_id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def shingles(text: str) -> frozenset[tuple[str, str]]:
    """Return the set of adjacent lower-cased word pairs of a text (single words if only one)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 2:
        return frozenset((w, "") for w in words)
    return frozenset(zip(words, words[1:], strict=False))


def near_copy(a: frozenset, b: frozenset) -> bool:
    """Return whether two shingle sets mostly overlap (relative to the smaller one).

    Containment rather than Jaccard: a sentence quoted inside a longer snippet elsewhere is
    still the same news.
    """
    if not a or not b:
        return a == b
    return mostly_shared(len(a & b), len(a), len(b))


def mostly_shared(common: int, a: int, b: int) -> bool:
    """Return whether `common` shared word pairs are most of the smaller of a and b pairs."""
    return common / min(a, b) >= NEAR_COPY


def same_place(a: Located, b: Located) -> bool:
    """Return whether two snippets of one article cover mostly the same characters."""
    if a.article_id != b.article_id:
        return False
    common = min(a.end, b.end) - max(a.start, b.start)
    return common > 0 and common >= SAME_PLACE * min(a.end - a.start, b.end - b.start)


T = TypeVar("T", bound=Located)


def distinct(items: Iterable[T]) -> Iterator[T]:
    """Yield items in order, skipping any that repeats one already yielded."""
    # The same tests as same_place and near_copy against every item kept, but only the kept
    # items of the same article, or sharing a word pair, are looked at: a question's ~100
    # windows made ~2,000 set intersections in Python, 5 ms of every answer.
    kept: list[tuple[T, frozenset]] = []
    of_article: dict[str, list[int]] = {}
    having: dict[tuple[str, str], list[int]] = {}  # word pair -> kept items that have it
    for item in items:
        marks = shingles(item.text)
        if any(same_place(item, kept[j][0]) for j in of_article.get(item.article_id, ())):
            continue
        shared = Counter(j for pair in marks for j in having.get(pair, ()))
        if not marks and any(not m for _, m in kept):
            continue  # no words, like one kept before (near_copy: two empty sets are equal)
        if any(mostly_shared(n, len(marks), len(kept[j][1])) for j, n in shared.items()):
            continue
        of_article.setdefault(item.article_id, []).append(len(kept))
        for pair in marks:
            having.setdefault(pair, []).append(len(kept))
        kept.append((item, marks))
        yield item
