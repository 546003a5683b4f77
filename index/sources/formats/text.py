"""Plain text and Markdown files: the title is the first heading or line, the rest the body.

An optional front matter block (`---` lines around `title:`, `date:`, `author:`, `url:`)
gives the metadata a bare text file cannot carry.
"""

from __future__ import annotations

import re

from index.articles import parse_date
from index.errors import ArticleError
from index.sources.formats.items import Reading, Source, single_article

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
NOT_TEXT = "no body text: neither a seed (no JSON header at the top of the file) nor plain text"


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split `key: value` front matter from the text (none: an empty mapping)."""
    match = _FRONT.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).split("\n"):
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _inline(line: str) -> str:
    """Drop Markdown's inline marks: links keep their words, emphasis its text."""
    return _EMPHASIS.sub(r"\2", _LINK.sub(r"\1", line)).strip()


def _paragraphs(lines: list[str]) -> list[str]:
    """Join lines into paragraphs at blank lines; list items and headings stand alone."""
    out: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        heading = _HEADING.match(line)
        if not line.strip() or heading or _LIST.match(line) or _SETEXT.match(line):
            if current:
                out.append(" ".join(current))
                current = []
            if heading:
                out.append(_inline(heading.group(1)))
            elif _LIST.match(line):
                out.append(_inline(_LIST.sub("", line)))
            continue
        current.append(_inline(line))
    return [p for p in (" ".join(p.split()) for p in out) if p]


def read(text: str, source: Source) -> Reading:
    """Read one text or Markdown file as an article."""
    meta, text = _front_matter(text)
    lines = text.strip("\n").split("\n")
    title = meta.get("title", "")
    if not title and lines:
        heading = _HEADING.match(lines[0])
        underlined = len(lines) > 1 and _SETEXT.match(lines[1]) and lines[0].strip()
        title = heading.group(1) if heading else _inline(lines[0])
        lines = lines[2:] if underlined else lines[1:]
    body = "\n\n".join(_paragraphs(lines))
    if not body:
        raise ArticleError(source.path, f"{NOT_TEXT} (a title line, then the body)")
    article = single_article(
        source,
        title=title,
        date=parse_date(meta.get("date")),
        author=meta.get("author", ""),
        url=meta.get("url", ""),
        text=body,
    )
    return Reading((article,))
