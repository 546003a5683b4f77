"""Feed subscriptions: the human-editable `.feeds` file in the seeds folder, and OPML imports.

One feed per line: its URL, then options as `name=value` (only `interval=SECONDS` so far);
`#` starts a comment, blank lines are ignored. The file starts with "." so the seeds walk and
the watcher never take it for an article. Editing keeps the user's comments and order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

from index.articles import MAX_FILE_BYTES
from index.errors import IndexError_
from index.sources.atomic_file import write_atomic

FEEDS_FILE = ".feeds"
MIN_INTERVAL = 60  # seconds: no feed is asked more often than this, whatever the file says
HEADER = (
    "# newsqa feed subscriptions (docs/feeds.md): one feed per line,\n"
    "# URL [interval=SECONDS]; '#' starts a comment.\n"
)
# A DOCTYPE is where entity definitions (billion laughs, external files) would come from:
# no OPML needs one, so none is parsed at all (defusedxml is not installed).
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)


class SubscriptionError(IndexError_):
    """A feed URL, a line of the subscriptions file or an OPML file cannot be used."""


@dataclass(frozen=True)
class Subscription:
    """One subscribed feed: its URL, and its own polling interval if it has one."""

    url: str
    interval: int | None = None  # seconds; None: the configured default (NEWSQA_FEED_INTERVAL)


@dataclass(frozen=True)
class Imported:
    """What an OPML import did: feeds added, feeds already there, outlines refused and why."""

    added: tuple[str, ...]
    present: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def check_url(url: str) -> str:
    """Return the URL stripped; raise SubscriptionError unless it is an http(s) URL."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SubscriptionError(f"{url!r} is not an http:// or https:// URL")
    if any(ch.isspace() for ch in url):
        raise SubscriptionError(f"{url!r} holds white space: encode it as %20")
    return url


def same_feed(a: str, b: str) -> bool:
    """Return whether two URLs name the same feed (scheme and host case aside)."""
    return _canonical(a) == _canonical(b)


def _canonical(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def subscriptions_path(seeds_dir: Path) -> Path:
    """Return where the subscriptions of a seeds folder live."""
    return Path(seeds_dir) / FEEDS_FILE


def _parse_line(line: str, where: str) -> Subscription | None:
    """Return the subscription on one line, None for a blank or comment line."""
    # "#" starts a comment at a word's start only: a URL may hold a fragment.
    words = list(takewhile(lambda word: not word.startswith("#"), line.split()))
    if not words:
        return None
    try:
        url = check_url(words[0])
    except SubscriptionError as err:
        raise SubscriptionError(f"{where}: {err}") from None
    interval = None
    for option in words[1:]:
        name, _, value = option.partition("=")
        if name != "interval":
            raise SubscriptionError(f"{where}: unknown option {option!r} (known: interval=)")
        if not value.isdigit() or int(value) < MIN_INTERVAL:
            raise SubscriptionError(
                f"{where}: interval must be a whole number of seconds >= {MIN_INTERVAL}"
            )
        interval = int(value)
    return Subscription(url, interval)


def read_subscriptions(seeds_dir: Path) -> tuple[Subscription, ...]:
    """Return the subscribed feeds in file order (none if there is no file)."""
    path = subscriptions_path(seeds_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as err:
        raise SubscriptionError(f"cannot read {path}: {err}") from None
    found: list[Subscription] = []
    for n, line in enumerate(text.splitlines(), 1):
        sub = _parse_line(line, f"{path}:{n}")
        if sub is not None and not any(same_feed(sub.url, s.url) for s in found):
            found.append(sub)
    return tuple(found)


def _line(sub: Subscription) -> str:
    return sub.url + (f" interval={sub.interval}" if sub.interval else "") + "\n"


def _check_folder(seeds_dir: Path) -> None:
    if not Path(seeds_dir).is_dir():
        raise SubscriptionError(f"seeds folder {seeds_dir} does not exist")


def _append(seeds_dir: Path, subs: list[Subscription]) -> None:
    """Add lines for subs at the end of the file, keeping what is there."""
    path = subscriptions_path(seeds_dir)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomic(path, (text + "".join(_line(s) for s in subs)).encode("utf-8"))


def add_subscription(seeds_dir: Path, url: str, interval: int | None = None) -> bool:
    """Subscribe to a feed; return False (and change nothing) if it is already subscribed."""
    _check_folder(seeds_dir)
    if interval is not None and interval < MIN_INTERVAL:
        raise SubscriptionError(f"the interval must be at least {MIN_INTERVAL} seconds")
    sub = Subscription(check_url(url), interval)
    if any(same_feed(sub.url, s.url) for s in read_subscriptions(seeds_dir)):
        return False
    _append(seeds_dir, [sub])
    return True


def remove_subscription(seeds_dir: Path, url: str) -> bool:
    """Unsubscribe from a feed (every line naming it); return False if it was not subscribed."""
    path = subscriptions_path(seeds_dir)
    if not any(same_feed(url.strip(), s.url) for s in read_subscriptions(seeds_dir)):
        return False
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not (line.split() and same_feed(line.split()[0], url.strip()))
    ]
    write_atomic(path, "".join(kept).encode("utf-8"))
    return True


def read_opml(raw: bytes) -> tuple[str, ...]:
    """Return the xmlUrl of every outline, nested folders included, in document order."""
    if len(raw) > MAX_FILE_BYTES:
        raise SubscriptionError(f"OPML file is too large ({len(raw):,} bytes)")
    if _DOCTYPE.search(raw):
        raise SubscriptionError("OPML file declares a DOCTYPE or entities: refused")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as err:
        raise SubscriptionError(f"not a readable OPML file: {err}") from None
    if root.tag.lower() != "opml":
        raise SubscriptionError(f"not an OPML file (root element <{root.tag}>)")
    return tuple(
        el.attrib["xmlUrl"].strip() for el in root.iter("outline") if el.get("xmlUrl", "").strip()
    )


def import_opml(seeds_dir: Path, raw: bytes, interval: int | None = None) -> Imported:
    """Subscribe to every feed of an OPML file; duplicates and non-http(s) URLs are skipped."""
    _check_folder(seeds_dir)
    known = [s.url for s in read_subscriptions(seeds_dir)]
    added: list[Subscription] = []
    present: list[str] = []
    refused: list[tuple[str, str]] = []
    for url in read_opml(raw):
        try:
            url = check_url(url)
        except SubscriptionError as err:
            refused.append((url, str(err)))
            continue
        if any(same_feed(url, k) for k in known):
            present.append(url)
        else:
            known.append(url)
            added.append(Subscription(url, interval))
    if added:
        _append(seeds_dir, added)
    return Imported(tuple(s.url for s in added), tuple(present), tuple(refused))
