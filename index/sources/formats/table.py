"""JSON Lines and CSV exports: one article per row, named by a documented column mapping.

Columns (any case): `title` and one of `text` / `html` are required; `date`, `author`, `url`
and `id` (the row's stable key; else its url, else its title) are read when present.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping

from index.articles import parse_date
from index.errors import ArticleError
from index.sources.cleaning import clean_html
from index.sources.formats.items import Reading, Source, item_article, skipped_item

_BLANK = re.compile(r"\n\s*\n")


def _text(value: str) -> str:
    """Return plain text as paragraphs: split at blank lines, else at each line break."""
    blocks = _BLANK.split(value.strip()) if _BLANK.search(value) else value.split("\n")
    return "\n\n".join(p for p in (" ".join(b.split()) for b in blocks) if p)


def _require(columns: set[str], source: Source) -> None:
    """Raise ArticleError naming the required columns the export lacks."""
    missing = [c for c in ("title",) if c not in columns]
    if not {"text", "html"} & columns:
        missing.append("text or html")
    if missing:
        found = ", ".join(sorted(columns)) or "none"
        raise ArticleError(source.path, f"missing column {' and '.join(missing)} (found: {found})")


def _rows(rows: Iterator[tuple[int, Mapping[str, object] | str]], source: Source) -> Reading:
    """Turn numbered rows (a mapping, or why the row is unreadable) into articles."""
    articles, skipped, keys = [], [], set()
    for n, row in rows:
        if isinstance(row, str):
            skipped.append(skipped_item(source, f"row-{n}", row))
            continue
        get = {str(k).strip().lower(): v for k, v in row.items()}.get
        key = str(get("id") or get("url") or get("title") or f"row-{n}")
        if key in keys:
            skipped.append(skipped_item(source, key, f"row {n} repeats the key {key!r}"))
            continue
        keys.add(key)
        raw_date = str(get("date") or "")
        date = parse_date(raw_date)
        if raw_date.strip() and date is None:
            skipped.append(skipped_item(source, key, f"row {n}: unreadable date {raw_date[:60]!r}"))
            continue
        text = _text(str(get("text") or "")) or clean_html(str(get("html") or ""))[0]
        if not text:
            skipped.append(skipped_item(source, key, f"row {n}: no body text"))
            continue
        articles.append(
            item_article(
                source,
                key,
                title=get("title"),
                date=date,
                author=get("author"),
                url=get("url"),
                text=text,
            )
        )
    return Reading(tuple(articles), tuple(skipped))


def read_jsonl(text: str, source: Source) -> Reading:
    """Read a JSON Lines export: one JSON object per line."""
    lines = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    rows: list[tuple[int, Mapping[str, object] | str]] = []
    columns: set[str] = set()
    for n, line in lines:
        try:
            row = json.loads(line)
        except ValueError as err:
            rows.append((n, f"line {n} is not JSON: {err}"))
            continue
        if not isinstance(row, dict):
            rows.append((n, f"line {n} is not a JSON object"))
            continue
        columns |= {str(k).strip().lower() for k in row}
        rows.append((n, row))
    _require(columns, source)
    return _rows(iter(rows), source)


def read_csv(text: str, source: Source) -> Reading:
    """Read a CSV (or tab- or semicolon-separated) export with a header row."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        columns = {str(c).strip().lower() for c in reader.fieldnames or ()}
        _require(columns, source)
        rows = list(enumerate(reader, 2))  # row 1 is the header
    except csv.Error as err:
        raise ArticleError(source.path, f"broken CSV: {err}") from None
    return _rows(iter(rows), source)
