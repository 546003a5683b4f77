"""Saved HTML pages of news sites: the article's text and metadata, read by trafilatura.

trafilatura finds the main text (leaving out navigation, ads, comments and related-story
boxes) and reads the metadata a page carries: <title>, Open Graph, article:* meta, JSON-LD
NewsArticle, <time>. Cleaning the whole page with BeautifulSoup alone keeps every menu,
banner and comment (docs/formats.md shows which).
"""

from __future__ import annotations

from configparser import ConfigParser

from index.articles import parse_date
from index.errors import ArticleError
from index.sources.formats.items import Reading, Source, single_article

# Keep the time of day: htmldate gives only the day by default.
_DATES = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True, "extensive_search": False}


def _config() -> ConfigParser:
    """Return trafilatura's settings without its alarm: the child's time budget stops a page."""
    from trafilatura.settings import use_config

    config = use_config()
    config["DEFAULT"]["EXTRACTION_TIMEOUT"] = "0"
    return config


def read(text: str, source: Source) -> Reading:
    """Read one saved page; raise ArticleError if no article body is found in it."""
    # Imported here: trafilatura takes ~0.5 s to import, and most rebuilds read no page.
    import trafilatura

    found = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        date_extraction_params=_DATES,
        config=_config(),
    )
    lines = [" ".join(line.split()) for line in (found.text or "").split("\n")] if found else []
    title = found.title if found else ""
    if lines and title and lines[0] == " ".join(title.split()):
        lines = lines[1:]  # the headline repeated as the first line of the body
    body = "\n\n".join(line for line in lines if line)
    if not body:
        raise ArticleError(source.path, "no article body found in the page")
    article = single_article(
        source,
        title=title,
        date=parse_date(found.date),
        author=found.author,
        url=found.url,
        text=body,
    )
    return Reading((article,))
