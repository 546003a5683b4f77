"""Read one article file: a JSON header (title, date, author), an HTML body, a source link."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString

from index.errors import ArticleError

MAX_FILE_BYTES = 5 * 1024 * 1024  # a news article is a few KB; 5 MB is surely not one

# Elements that never carry article prose: media, embeds, page furniture.
_DROP_TAGS = (
    "script",
    "style",
    "img",
    "iframe",
    "object",
    "embed",
    "param",
    "audio",
    "video",
    "noscript",
    "svg",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "head",
    "title",
)
# Elements after which the text breaks into a new paragraph.
_BLOCK_TAGS = (
    "p",
    "div",
    "blockquote",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "pre",
    "hr",
    "dd",
    "dt",
)
_SHARE_HOSTS = re.compile(r"feeds\.feedburner\.com|feedsportal\.com|/~ff/|/~r/.*~4/", re.I)
_ORIGINAL_LINK = re.compile(r"original article was posted", re.I)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_SPACES = re.compile(r"[^\S\n]+|\u200b")


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
    content_hash: str


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


def _pop_original_link(soup: BeautifulSoup) -> str:
    """Remove the trailing 'The original article was posted here.' line and return its link."""
    url = ""
    for marker in soup.find_all(string=_ORIGINAL_LINK):
        link = marker.find_next("a")
        if link is not None and link.get("href"):
            url = link["href"].strip()
            after = link.next_sibling
            if isinstance(after, NavigableString) and not after.strip(" .\n\t"):
                after.extract()
            link.decompose()
        marker.extract()
    return url


def clean_html(body: str) -> tuple[str, str]:
    """Return (plain text with one blank line between paragraphs, original article url)."""
    soup = BeautifulSoup(body, "html.parser")
    url = _pop_original_link(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(class_="feedflare"):
        tag.decompose()
    for link in soup.find_all("a", href=_SHARE_HOSTS):
        link.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    paragraphs = []
    for block in re.split(r"\n\s*\n", soup.get_text()):
        lines = (_SPACES.sub(" ", line).strip() for line in block.split("\n"))
        paragraph = " ".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs), url


def parse_article(raw: bytes, path: str, article_id: str) -> Article:
    """Parse the bytes of one article file; raise ArticleError saying why it is not one."""
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
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        header_text, body = _split_header(text)
        header = parse_header(header_text)
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ArticleError(path, f"broken JSON header: {err}") from None
    clean, url = clean_html(body)
    if not clean:
        raise ArticleError(path, "no body text")
    title = str(header.get("title") or "").strip() or Path(path).stem
    return Article(
        id=article_id,
        path=path,
        title=title,
        date=parse_date(header.get("date")),
        author=str(header.get("author") or "").strip(),
        url=str(header.get("url") or url).strip(),
        text=clean,
        content_hash=content_hash(raw),
    )


def read_article(path: Path, article_id: str | None = None) -> Article:
    """Read and parse one article file from disk."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ArticleError(str(path), f"cannot read: {err.strerror}") from None
    return parse_article(raw, str(path), article_id or path.stem)
