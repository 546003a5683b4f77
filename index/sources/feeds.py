"""Polling subscribed feeds, politely, into item files in the seeds folder.

Each round reads `.feeds` (docs/feeds.md) and asks every feed that is due: a conditional GET
(a 304 costs no parse), at most once per interval, failures retried with exponential
back-off. A failing feed is reported with its reason and never stops the others. The items
it brings are written as files the seeds watcher picks up (index/sources/feed_items.py).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import feedparser

from index.articles import MAX_ELEMENTS
from index.errors import IndexError_
from index.sources.feed_fetch import FeedError, Limits, fetch, open_session
from index.sources.feed_items import Written, feed_folder, write_items
from index.sources.feed_state import FeedState, load_states, save_states
from index.sources.subscriptions import MIN_INTERVAL, Subscription, read_subscriptions

log = logging.getLogger(__name__)

LOCK_FILE = ".feeds-lock"
IDLE = 60.0  # seconds: how often a waiting poller looks for new subscriptions
# Files already in a folder when watchdog starts watching it are reported as created and never
# closed, which holds the watcher's rebuild for its STALL (10 s): a new feed's folder is made
# this long before its items are written into it.
FOLDER_SETTLE = 0.5
_START_TAG = re.compile(rb"<[A-Za-z]")
_HTML = re.compile(rb"<!DOCTYPE\s+html|<html[\s>]", re.I)


class PollerBusy(IndexError_):
    """Another process is polling this seeds folder's feeds right now."""


@dataclass(frozen=True)
class PollResult:
    """What happened to one feed in one round."""

    url: str
    outcome: str  # "items", "not modified", "failed" or "not due"
    at: float  # Unix time of the round
    next_poll: float  # Unix time it may be asked again
    written: Written | None = None
    reason: str = ""
    failures: int = 0

    def describe(self) -> str:
        """Return one line saying what happened and when the feed is next asked."""
        wait = format_wait(self.next_poll - self.at)
        if self.outcome == "items":
            w = self.written or Written()
            changed = f" ({w.changed} changed)" if w.changed else ""
            return f"{self.url}: {w.new} new item{'' if w.new == 1 else 's'}{changed}"
        if self.outcome == "failed":
            times = "" if self.failures == 1 else f", {self.failures} times in a row"
            return f"{self.url}: failed: {self.reason}{times} (next try in {wait})"
        if self.outcome == "not due":
            return f"{self.url}: not due (next poll in {wait})"
        return f"{self.url}: {self.outcome}"


def format_wait(seconds: float) -> str:
    """Return a wait as a person says it: 45 s, 15 min, 90 min, 1 h, 2.5 h."""
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600 or (seconds < 2 * 3600 and seconds % 3600):
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")


def parse_feed(body: bytes, url: str, content_type: str = "") -> feedparser.FeedParserDict:
    """Parse a fetched feed; raise FeedError if it is an HTML page or no feed at all."""
    elements = len(_START_TAG.findall(body))
    if elements > MAX_ELEMENTS:
        raise FeedError(f"too many elements ({elements:,}, limit {MAX_ELEMENTS:,})")
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(
            body, sanitize_html=True, resolve_relative_uris=True, response_headers=headers
        )
    except Exception as err:  # a parser's own bug on odd input must cost this feed only
        raise FeedError(f"unparsable: {type(err).__name__}: {err}") from None
    if not parsed.get("version"):
        if _HTML.search(body[:4096]) or "html" in content_type.lower():
            raise FeedError("an HTML page, not a feed")
        why = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise FeedError(f"not a feed: {why}")
    return parsed


class FeedPoller:
    """Poll the feeds subscribed in a seeds folder, writing their new items as seed files."""

    def __init__(
        self,
        seeds_dir: Path,
        *,
        interval: int = 900,
        limits: Limits = Limits(),  # noqa: B008 (frozen, so one shared default is safe)
        clock: Callable[[], float] = time.time,
    ) -> None:
        """interval: seconds between two polls of a feed whose line names none."""
        self.seeds_dir = Path(seeds_dir)
        self.interval = max(MIN_INTERVAL, interval)
        self.limits = limits
        self.clock = clock
        self._session = None  # opened on the first request, reused (keep-alive)

    def interval_of(self, sub: Subscription) -> int:
        """Return a feed's interval: its own, else the configured one."""
        return sub.interval or self.interval

    def poll(self) -> list[PollResult]:
        """Poll every subscribed feed that is due, once; one result per subscribed feed."""
        subs = read_subscriptions(self.seeds_dir)
        if not subs:
            return []
        with self._locked():
            states = load_states(self.seeds_dir)
            states = {s.url: states.get(s.url, FeedState()) for s in subs}  # drop the removed
            results = []
            for sub in subs:
                result, states[sub.url] = self._poll_one(sub, states[sub.url])
                if result.outcome != "not due":
                    save_states(self.seeds_dir, states)  # now: a crash keeps what was learnt
                results.append(result)
            save_states(self.seeds_dir, states)
        return results

    def next_due(self) -> float | None:
        """Return when the next feed is due (Unix time), None if nothing is subscribed."""
        subs = read_subscriptions(self.seeds_dir)
        states = load_states(self.seeds_dir)
        dues = [states.get(s.url, FeedState()).due(self.interval_of(s)) for s in subs]
        return min(dues, default=None)

    def _poll_one(self, sub: Subscription, state: FeedState) -> tuple[PollResult, FeedState]:
        """Ask one feed if it is due; return what happened and its new state."""
        interval, now = self.interval_of(sub), self.clock()
        if state.due(interval) > now:
            return PollResult(sub.url, "not due", now, state.due(interval)), state
        try:
            written, state = self._request(sub.url, state, now)
        except (FeedError, OSError) as err:
            # OSError: the seeds folder failed (a full disk), not the feed; reported the same.
            reason = err.reason if isinstance(err, FeedError) else f"cannot write its items: {err}"
            state = state.failed(now, reason, getattr(err, "retry_after", None))
            due = state.due(interval)
            return PollResult(sub.url, "failed", now, due, None, reason, state.failures), state
        outcome = "not modified" if written is None else "items"
        return PollResult(sub.url, outcome, now, state.due(interval), written), state

    def _request(self, url: str, state: FeedState, now: float) -> tuple[Written | None, FeedState]:
        """GET the feed and write its items; None written: it answered 304."""
        if self._session is None:
            self._session = open_session(self.limits)
        got = fetch(
            self._session,
            url,
            etag=state.etag,
            last_modified=state.last_modified,
            limits=self.limits,
        )
        if got.body is None:
            return None, state.succeeded(now)
        parsed = parse_feed(got.body, got.url or url, got.content_type)
        written = write_items(feed_folder(self.seeds_dir, url), parsed, url)
        return written, state.succeeded(now, got.etag, got.last_modified)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the folder's poll lock for a round; raise PollerBusy if another holds it."""
        fd = os.open(self.seeds_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy = f"another process is polling the feeds of {self.seeds_dir}"
                raise PollerBusy(busy) from None
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def make_folders(self) -> bool:
        """Make the item folder of every subscribed feed; return whether one was new."""
        made = False
        for sub in read_subscriptions(self.seeds_dir):
            folder = feed_folder(self.seeds_dir, sub.url)
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                made = True
        return made

    def run(self, stop: threading.Event, report: Callable[[str], None]) -> None:
        """Poll as feeds fall due until `stop` is set; report one line per feed asked."""
        said = ""  # the last error reported: a broken .feeds line is said once, not each minute
        while not stop.is_set():
            due = None
            try:
                if self.make_folders() and stop.wait(FOLDER_SETTLE):
                    return
                for result in self.poll():
                    if result.outcome != "not due":
                        report(result.describe())
                due, said = self.next_due(), ""
            except PollerBusy:
                pass  # the other poller does the work; look again later
            except IndexError_ as err:  # a broken .feeds line: say so, look again later
                if str(err) != said:
                    report(f"feeds: {err}")
                said = str(err)
            except Exception:  # a poller has no caller: log it and poll on
                log.exception("polling the feeds of %s failed", self.seeds_dir)
            wait = IDLE if due is None else min(IDLE, max(1.0, due - self.clock()))
            stop.wait(wait)
