"""The Atom 1.0 feed of saved questions' changes (RFC 4287), built with ElementTree.

ElementTree escapes text and attributes; what it does not do is drop the characters XML 1.0
cannot hold at all (control characters from a question or an article), so `_xml` does.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

from qa.saved.store import Change, answer_key

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
FEED_ENTRIES = 50  # newest changes per feed
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def urn(name: str) -> str:
    """Return a stable urn:uuid for a name (a feed's id never changes)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'newsqa:' + name)}"


def _words(exact: str | None) -> str:
    return "no answer" if exact is None else exact


def entry_title(change: Change) -> str:
    """Return "<question>: <old exact> → <new exact>" (timeline changes say so)."""
    old, new = answer_key(change.before)[0], answer_key(change.after)[0]
    title = f"{change.question}: {_words(old)} → {_words(new)}"
    return title if old != new else f"{title} (timeline changed)"


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml(text)
    return element


def _answer_html(div: ET.Element, heading: str, answer: dict) -> None:
    """Add one answer: its exact words, its timeline and its cited sources."""
    exact, timeline = answer_key(answer)
    para = _sub(div, "p")
    _sub(para, "strong", f"{heading}: ")
    _sub(para, "em" if exact is None else "b", _words(exact))
    if timeline:
        _sub(div, "p", "Timeline: " + "; ".join(f"{text} ({day})" for text, day in timeline))
    sources = _sub(div, "ol")
    for citation in answer.get("citations") or ():
        item = _sub(sources, "li")
        url = str(citation.get("url") or "")
        # Only web links: a javascript: or data: URL from an article never becomes a link.
        title = (
            _sub(item, "a", citation.get("title") or url, href=url)
            if url.startswith(("http://", "https://"))
            else _sub(item, "span", citation.get("title") or "untitled")
        )
        title.tail = _xml(f" ({(citation.get('date') or 'undated')[:10]}): ")
        _sub(item, "q", citation.get("snippet", ""))


def entry_html(change: Change) -> str:
    """Return the entry's content: both answers with their cited sources, as HTML."""
    div = ET.Element("div")
    _sub(div, "p", f"Asked again at index generation {change.generation}: {change.question}")
    _answer_html(div, "Before", change.before)
    _answer_html(div, "Now", change.after)
    return ET.tostring(div, encoding="unicode", method="html")


def feed(
    *,
    title: str,
    feed_id: str,
    self_url: str,
    updated: str,
    changes: Sequence[Change],
    link_of: Callable[[Change], str],
) -> bytes:
    """Return the Atom document: one entry per change, newest first."""
    root = ET.Element("feed", {"xmlns": ATOM})
    _sub(root, "id", feed_id)
    _sub(root, "title", title)
    _sub(root, "updated", max([updated, *(c.time for c in changes)]))
    _sub(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _sub(_sub(root, "author"), "name", "newsqa")
    _sub(root, "generator", "newsqa")
    for change in changes[:FEED_ENTRIES]:
        entry = _sub(root, "entry")
        _sub(entry, "id", f"urn:uuid:{change.id}")
        _sub(entry, "title", entry_title(change))
        _sub(entry, "updated", change.time)
        # No type: feed readers take only an html-ish (or untyped) alternate as the entry link.
        _sub(entry, "link", rel="alternate", href=link_of(change))
        _sub(entry, "content", entry_html(change), type="html")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
