"""Syndicated copies: one story arriving through two feeds (or files) is indexed once.

Two articles are copies when their links agree (scheme, "www.", tracking parameters and a
trailing slash aside) or their texts are nearly the same (Jaccard similarity of five-word
shingles at least NEAR). The copy with the longest text is kept; the others' links go to its
`also_published_at`, and they are reported as skipped, each with the id it was merged into.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.articles import Article
from index.sources.seeds import Skipped

NEAR = 0.8  # syndicated copies differ by a byline or a trailing line, not by paragraphs
SHINGLE = 5
SKETCH = 4  # each text is bucketed under its 4 smallest shingle hashes: copies share one
_WORD = re.compile(r"\w+")
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|ref$|source$)", re.I)


def link_key(url: str) -> str:
    """Return a link without what differs between two feeds' copies of the same page."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return ""
    host = parts.netloc.lower().removeprefix("www.")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    return urlunsplit(("", host, parts.path.rstrip("/"), query, ""))


def _shingles(text: str) -> frozenset[int]:
    """Return the hashed five-word shingles of a text.

    Python's own hash: salted per process, but shingles are only compared within one call.
    """
    words = _WORD.findall(text.lower())
    return frozenset(hash(tuple(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1))


class _Groups:
    """Union-find over article positions."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _copies(articles: list[Article]) -> _Groups:
    """Group the articles that are copies of one story."""
    groups = _Groups(len(articles))
    by_link: dict[str, int] = {}
    buckets: dict[int, list[int]] = {}
    shingles = [_shingles(a.text) for a in articles]
    for i, article in enumerate(articles):
        key = link_key(article.url)
        if key:
            groups.join(by_link.setdefault(key, i), i)
        for h in heapq.nsmallest(SKETCH, shingles[i]):
            for j in buckets.setdefault(h, []):
                small, large = sorted((len(shingles[i]), len(shingles[j])))
                if small < NEAR * large or groups.find(i) == groups.find(j):
                    continue  # Jaccard is at most small / large
                shared = len(shingles[i] & shingles[j])
                if shared / len(shingles[i] | shingles[j]) >= NEAR:
                    groups.join(i, j)
            buckets[h].append(i)
    return groups


def merge_copies(articles: list[Article]) -> tuple[list[Article], list[Skipped]]:
    """Keep one article per story, in the given order; return them and the copies dropped."""
    groups = _copies(articles)
    members: dict[int, list[int]] = {}
    for i in range(len(articles)):
        members.setdefault(groups.find(i), []).append(i)
    keep: dict[int, Article] = {}
    dropped: list[Skipped] = []
    for group in members.values():
        best = max(group, key=lambda i: (len(articles[i].text), -i))
        others = [articles[i] for i in group if i != best]
        # Another link where there is one; the copy's id (its file) when the links agree.
        also = tuple(dict.fromkeys(a.url if a.url != articles[best].url else a.id for a in others))
        keep[best] = replace(articles[best], also_published_at=also)
        for other in others:
            where = f"{other.path}#{other.item}" if other.item else other.path
            dropped.append(
                Skipped(where, f"a syndicated copy of {articles[best].id} (listed there)")
            )
    return [keep[i] for i in sorted(keep)], dropped
