"""RSS 2.0, RSS 1.0 and Atom feed files: one article per item, read with feedparser."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from index.errors import ArticleError
from index.sources.cleaning import clean_html
from index.sources.formats.items import Reading, Source, item_article, skipped_item


def _date(entry: dict) -> tuple[datetime | None, str]:
    """Return the entry's date (published, else updated) in UTC, and the text it came from."""
    for name in ("published", "updated", "created"):
        raw = entry.get(name)
        if not raw:
            continue
        parsed = entry.get(f"{name}_parsed")
        if parsed is None:
            return None, raw
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC), raw
    return None, ""


def _body(entry: dict) -> str:
    """Return the entry's fullest HTML: its content, else its summary (feedparser sanitises)."""
    contents = [c.get("value", "") for c in entry.get("content", ())]
    best = max(contents, key=len, default="")
    summary = entry.get("summary", "")
    return best if len(best) >= len(summary) else summary


def read(text: str, source: Source) -> Reading:
    """Read every entry of a feed; an entry with an unreadable date or no text is skipped."""
    import feedparser  # here: a rebuild that reads no feed need not import it

    # Bytes, not a string: given a string that looks like a URL, feedparser would fetch it.
    feed = feedparser.parse(text.encode("utf-8"), sanitize_html=True, resolve_relative_uris=False)
    if not feed.version:
        reason = getattr(feed, "bozo_exception", None) or "no RSS or Atom root element"
        raise ArticleError(source.path, f"not a readable feed: {reason}")
    articles, skipped, keys = [], [], set()
    for n, entry in enumerate(feed.entries, 1):
        key = entry.get("id") or entry.get("link") or entry.get("title") or f"entry-{n}"
        if key in keys:
            skipped.append(skipped_item(source, key, "the feed lists this entry twice"))
            continue
        keys.add(key)
        date, raw_date = _date(entry)
        if raw_date and date is None:
            skipped.append(skipped_item(source, key, f"unreadable date {raw_date[:60]!r}"))
            continue
        body, _ = clean_html(_body(entry))
        if not body:
            skipped.append(skipped_item(source, key, "no body text"))
            continue
        author = entry.get("author") or feed.feed.get("author", "")
        articles.append(
            item_article(
                source,
                key,
                title=entry.get("title"),
                date=date,
                author=author,
                url=entry.get("link", ""),
                text=body,
            )
        )
    if not articles and not skipped:
        raise ArticleError(source.path, "a feed with no entries")
    return Reading(tuple(articles), tuple(skipped))
