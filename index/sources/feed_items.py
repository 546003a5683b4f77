"""A polled feed's items as files in the seeds folder: one small RSS 2.0 document per item.

Each item goes to `feeds/<feed slug>/<item key>.xml`, where the item key is the one the feed
reader names it by (readable tail of its guid or link + 8 hex digits of its hash), written in
one atomic step. An item whose file already holds the same bytes is not written again; an
item changed at the source (same guid, new text) replaces its file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from index.sources.atomic_file import write_atomic
from index.sources.formats.items import item_key

FEEDS_FOLDER = "feeds"
FOLDER_CHARS = 80  # longer feed slugs are cut, with a hash of the URL to keep them apart
_SLUG = re.compile(r"[^a-z0-9]+")
# Characters XML 1.0 cannot hold at all (most control characters): dropped, not escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
)


@dataclass(frozen=True)
class Written:
    """What one poll did to a feed's folder: items new, changed, already there, without text."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    empty: int = 0


def feed_folder(seeds_dir: Path, url: str) -> Path:
    """Return the folder a feed's items go to: its host, path and query as a slug, then a hash
    of the whole URL (two feeds whose slugs agree, http and https ones, never share one)."""
    parts = urlsplit(url)
    name = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    slug = _SLUG.sub("-", name.lower()).strip("-")[:FOLDER_CHARS].strip("-") or "feed"
    digest = hashlib.sha1(url.encode("utf-8", "replace")).hexdigest()[:8]
    return Path(seeds_dir) / FEEDS_FOLDER / f"{slug}-{digest}"


def _text(value: object) -> str:
    """Return a value as XML-escaped text (characters XML cannot hold dropped)."""
    return escape(_NOT_XML.sub("", str(value or "")))


def _element(name: str, value: object, attrs: str = "") -> str:
    """Return one element on its own line, or nothing if the value is empty."""
    text = _text(value)
    return f"<{name}{attrs}>{text}</{name}>\n" if text.strip() else ""


def _bodies(entry: dict) -> tuple[str, str]:
    """Return the entry's fullest content and its summary ("" where it has none)."""
    contents = [c.get("value", "") for c in entry.get("content", ())]
    content = max(contents, key=len, default="")
    summary = entry.get("summary", "")
    return content, ("" if summary == content else summary)


def _date(entry: dict) -> str:
    """Return the date as the feed wrote it: the reader parses it (or says it cannot)."""
    return next((entry[n] for n in ("published", "updated", "created") if entry.get(n)), "")


def item_document(entry: dict, feed: dict, feed_url: str, key: str) -> bytes:
    """Return an RSS 2.0 document holding just this entry, with its channel's name and link."""
    content, summary = _bodies(entry)
    author = entry.get("author") or feed.get("author", "")
    guid_attrs = ' isPermaLink="false"'
    parts = [
        _HEAD,
        _element("title", feed.get("title") or feed_url),
        _element("link", feed.get("link") or feed_url),
        "<item>\n",
        _element("title", entry.get("title", "")),
        _element("link", entry.get("link", "")),
        _element("guid", key, guid_attrs),
        _element("pubDate", _date(entry)),
        _element("dc:creator", author),
        _element("source", feed.get("title") or feed_url, f" url={quoteattr(feed_url)}"),
        _element("description", summary),  # a feed giving only a summary keeps it
        _element("content:encoded", content),
        "</item>\n</channel>\n</rss>\n",
    ]
    return "".join(parts).encode("utf-8")


def write_items(folder: Path, parsed: dict, feed_url: str) -> Written:
    """Write each entry of a parsed feed (feedparser's result) that is new or changed."""
    counts = {"new": 0, "changed": 0, "unchanged": 0, "empty": 0}
    seen: set[str] = set()
    for entry in parsed.get("entries", ()):
        key = entry.get("id") or entry.get("link") or entry.get("title")
        if not key or key in seen:
            continue  # no stable name to file it under, or listed twice
        seen.add(key)
        if not any(_bodies(entry)):
            counts["empty"] += 1  # the reader would skip it on every build: no text
            continue
        document = item_document(entry, parsed.get("feed", {}), feed_url, key)
        path = folder / f"{item_key(key)}.xml"
        try:
            before = path.read_bytes()
        except FileNotFoundError:
            before = None
        if before == document:
            counts["unchanged"] += 1
            continue
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, document)
        counts["new" if before is None else "changed"] += 1
    return Written(**counts)
