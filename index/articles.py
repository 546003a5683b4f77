"""Read one article file: a JSON header (title, date, author), an HTML body, a source link."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from index.errors import ArticleError
from index.sources.cleaning import clean_html

MAX_FILE_BYTES = 5 * 1024 * 1024  # a news article is a few KB; 5 MB is surely not one

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# A news article has hundreds of elements; past this many the file is not one, and parsing
# it would cost seconds and ~1 KB of memory per element (600,000 <p>: 30 s, 700 MB).
MAX_ELEMENTS = 100_000
_START_TAG = re.compile(r"<[A-Za-z]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs halves up: any left are lone
# Metadata is shown with every citation and read by the cross-encoder: keep it short.
MAX_TITLE_CHARS = 300
MAX_AUTHOR_CHARS = 200
MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class Article:
    """One cleaned article: metadata for citations and the text that answers come from."""

    id: str
    path: str
    title: str
    date: datetime | None
    author: str
    url: str
    text: str
    content_hash: str  # of the file's bytes; of the item's fields for one of many in a file
    # Added by the multi-format readers (#16); defaults keep older articles.jsonl readable.
    item: str = ""  # the item's key inside a feed or export file ("" for a one-article file)
    source_hash: str = ""  # of the whole file's bytes ("" in indexes written before #16)
    also_published_at: tuple[str, ...] = ()  # links of syndicated copies indexed as this one


def content_hash(raw: bytes) -> str:
    """Return the hash that identifies a file's content across rebuilds."""
    return hashlib.sha256(raw).hexdigest()


def _split_header(text: str) -> tuple[str, str]:
    """Split the leading JSON object from the body, honouring braces inside strings."""
    start = text.find("{")
    if start == -1 or text[:start].strip():
        raise ValueError("no JSON header at the top of the file")
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1], text[i + 1 :]
    raise ValueError("the JSON header is never closed")


def parse_header(header: str) -> dict:
    """Parse the header object, forgiving trailing commas (hand-written headers have them)."""
    data = json.loads(_TRAILING_COMMA.sub(r"\1", header))
    if not isinstance(data, dict):
        raise ValueError("the header is not a JSON object")
    return data


def parse_date(value: object) -> datetime | None:
    """Parse an RFC 2822 or ISO 8601 date into an aware datetime (UTC if no zone is given)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def field_text(value: object, limit: int) -> str:
    """Return a header value as one line of valid text, at most limit characters."""
    text = " ".join(str(value or "").split())
    # A lone surrogate ("\\ud800" in the JSON header) is not text: the tokenizers raise on it.
    text = _SURROGATE.sub("\ufffd", text)
    return text[:limit].strip()


def decode_text(raw: bytes, path: str) -> str:
    """Return a file's bytes as text with Unix line ends; raise ArticleError if it is not text."""
    if len(raw) > MAX_FILE_BYTES:
        raise ArticleError(
            path, f"file is too large ({len(raw):,} bytes, limit {MAX_FILE_BYTES:,})"
        )
    if not raw.strip():
        raise ArticleError(path, "file is empty")
    if b"\x00" in raw[:8192]:
        raise ArticleError(path, "binary file, not an article")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(path, f"not UTF-8 text (bad byte at offset {err.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_elements(text: str, path: str) -> None:
    """Raise ArticleError if the markup has more elements than any article (parsing costs)."""
    elements = len(_START_TAG.findall(text))
    if elements > MAX_ELEMENTS:
        raise ArticleError(
            path, f"too many HTML elements ({elements:,}, limit {MAX_ELEMENTS:,}): not an article"
        )


def parse_article(raw: bytes, path: str, article_id: str) -> Article:
    """Parse the bytes of one seed file; raise ArticleError saying why it is not one."""
    text = decode_text(raw, path)
    try:
        header_text, body = _split_header(text)
        header = parse_header(header_text)
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ArticleError(path, f"broken JSON header: {err}") from None
    check_elements(body, path)
    clean, url = clean_html(body)
    if not clean:
        raise ArticleError(path, "no body text")
    return Article(
        id=article_id,
        path=path,
        title=field_text(header.get("title") or Path(path).stem, MAX_TITLE_CHARS),
        date=parse_date(header.get("date")),
        author=field_text(header.get("author"), MAX_AUTHOR_CHARS),
        url=field_text(header.get("url") or url, MAX_URL_CHARS),
        text=clean,
        content_hash=content_hash(raw),
        source_hash=content_hash(raw),
    )


def read_article(path: Path, article_id: str | None = None) -> Article:
    """Read and parse one article file from disk."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ArticleError(str(path), f"cannot read: {err.strerror}") from None
    return parse_article(raw, str(path), article_id or path.stem)
