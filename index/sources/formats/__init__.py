"""Article files in every shape they come in, each format read by one module.

`read_file` looks at a file's content (its extension only breaks ties), picks the reader and
returns a `Reading`: the same `Article` whatever the format. It runs inside the parser child
process (index/sources/parser_process.py), so a hostile file of any format meets the same
time budget.
"""

from __future__ import annotations

import json
import re
from itertools import islice
from pathlib import PurePath

from index.articles import check_elements, content_hash, decode_text
from index.sources.formats import feed, page, seed, table, text
from index.sources.formats.items import Reading, Source

FORMATS = ("seed", "feed", "page", "jsonl", "csv", "text")
_XML_PROLOGUE = re.compile(r"\A(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF)[\s>]", re.I)
_HTML = re.compile(r"<!DOCTYPE\s+html|<html[\s>]", re.I)
_CELL = re.compile(r"[,;\t]")


def _json_lines(text: str) -> bool:
    """Return whether the first lines are each a whole JSON object (a seed's header is not)."""
    lines = list(islice((line for line in text.split("\n") if line.strip()), 5))
    try:
        return bool(lines) and all(isinstance(json.loads(line), dict) for line in lines)
    except ValueError:
        return False


def detect(text: str, path: str) -> str:
    """Name the format of a file's text: one of FORMATS."""
    suffix = PurePath(path).suffix.lower()
    start = text.lstrip("\ufeff \t\n")
    if suffix in (".jsonl", ".ndjson") or (start.startswith("{") and _json_lines(start)):
        return "jsonl"
    if start.startswith("{"):
        return "seed"
    if start.startswith("<"):
        rest = start[_XML_PROLOGUE.match(start).end() :]
        if _FEED_ROOT.match(rest):
            return "feed"
        if _HTML.search(start[:4096]) or suffix in (".html", ".htm", ".xhtml"):
            return "page"
        if start.startswith("<?xml"):
            return "feed"  # XML that is no feed: the feed reader says so
        return "seed"  # a bare HTML fragment: a seed file missing its header says so
    header = {f.strip(' "').lower() for f in _CELL.split(start.split("\n", 1)[0])}
    if suffix in (".csv", ".tsv") or ("title" in header and {"text", "html"} & header):
        return "csv"
    return "text"


def read_file(raw: bytes, path: str, article_id: str) -> Reading:
    """Read one file of any format; raise ArticleError saying why it holds no article."""
    decoded = decode_text(raw, path)
    source = Source(path, article_id, content_hash(raw))
    kind = detect(decoded, path)
    if kind in ("feed", "page"):
        check_elements(decoded, path)
    if kind == "seed":
        return seed.read(raw, source)
    if kind == "feed":
        return feed.read(decoded, source)
    if kind == "page":
        return page.read(decoded, source)
    if kind == "jsonl":
        return table.read_jsonl(decoded, source)
    if kind == "csv":
        return table.read_csv(decoded, source)
    return text.read(decoded, source)


__all__ = ["FORMATS", "Reading", "detect", "read_file"]
