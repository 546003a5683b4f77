"""What every reader returns: articles from one file, and the items in it that were skipped."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from index.articles import (
    MAX_AUTHOR_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    Article,
    content_hash,
    field_text,
)
from index.sources.seeds import Skipped

_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_CHARS = 48  # readable part of an item's id; the hash after it keeps it unique


@dataclass(frozen=True)
class Source:
    """The file a reader reads: its path, the id it was given and the hash of its bytes."""

    path: str
    article_id: str
    file_hash: str


@dataclass(frozen=True)
class Reading:
    """The articles read from one file, and its items that were skipped, with why."""

    articles: tuple[Article, ...]
    skipped: tuple[Skipped, ...] = ()


def item_key(key: str) -> str:
    """Return a stable, URL-safe name for an item from its guid, link or row key.

    The last path segment stays readable; a short hash of the whole key keeps two items
    whose segments agree apart. The same key gives the same name in every rebuild.
    """
    tail = key.rstrip("/").replace(":", "/").rsplit("/", 1)[-1].lower()
    slug = _SLUG.sub("-", tail).strip("-")[:SLUG_CHARS].strip("-")
    digest = hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def item_article(
    source: Source,
    key: str,
    *,
    title: object,
    date: datetime | None,
    author: object,
    url: object,
    text: str,
) -> Article:
    """Return one article of a multi-article file, named `<file id>/<item key>`."""
    item = item_key(key)
    title = field_text(title, MAX_TITLE_CHARS) or "(untitled)"
    author = field_text(author, MAX_AUTHOR_CHARS)
    url = field_text(url, MAX_URL_CHARS)
    # The item's own hash: a feed that gains items keeps the hashes (and vectors) of the rest.
    fields = [title, date.isoformat() if date else None, author, url, text]
    return Article(
        id=f"{source.article_id}/{item}",
        path=source.path,
        title=title,
        date=date,
        author=author,
        url=url,
        text=text,
        content_hash=content_hash(json.dumps(fields).encode()),
        item=item,
        source_hash=source.file_hash,
    )


def single_article(
    source: Source, *, title: object, date: datetime | None, author: object, url: object, text: str
) -> Article:
    """Return the one article of a one-article file (a page, a text file), named by its path."""
    return Article(
        id=source.article_id,
        path=source.path,
        title=field_text(title, MAX_TITLE_CHARS) or source.article_id.rsplit("/", 1)[-1],
        date=date,
        author=field_text(author, MAX_AUTHOR_CHARS),
        url=field_text(url, MAX_URL_CHARS),
        text=text,
        content_hash=source.file_hash,
        source_hash=source.file_hash,
    )


def skipped_item(source: Source, key: str, reason: str) -> Skipped:
    """Name a skipped item by its file and key, so the report says which one and why."""
    return Skipped(f"{source.path}#{item_key(key)}", reason)
