"""The project's seed files: a JSON header, an HTML body, "The original article was posted here"."""

from __future__ import annotations

from index.articles import parse_article
from index.sources.formats.items import Reading, Source


def read(raw: bytes, source: Source) -> Reading:
    """Read one seed file (index.articles.parse_article, unchanged)."""
    return Reading((parse_article(raw, source.path, source.article_id),))
