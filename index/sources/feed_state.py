"""What the poller remembers of each feed between polls, in `.feeds-state.json`.

Per feed: the validators for a conditional GET (ETag, Last-Modified), when it was last asked,
how many polls in a row failed and why. When it is next due follows from these and its
interval, so a changed interval in `.feeds` counts at once. Times are Unix seconds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from index.sources.atomic_file import write_atomic

log = logging.getLogger(__name__)

STATE_FILE = ".feeds-state.json"
MAX_BACKOFF = 6 * 3600  # seconds: a feed that keeps failing is still tried four times a day
MAX_RETRY_AFTER = 24 * 3600  # a server's Retry-After is honoured up to a day


def backoff(interval: int, failures: int) -> int:
    """Return the wait after `failures` failures in a row: the interval, doubled each time."""
    if failures <= 0:
        return interval
    return min(interval * 2 ** min(failures - 1, 30), max(interval, MAX_BACKOFF))


@dataclass(frozen=True)
class FeedState:
    """One feed's memory: validators, the last request, failures in a row, the last error."""

    etag: str = ""
    last_modified: str = ""
    last_poll: float = 0.0  # when it was last asked (0: never)
    last_success: float = 0.0
    failures: int = 0
    error: str = ""
    not_before: float = 0.0  # a server's Retry-After

    def due(self, interval: int) -> float:
        """Return when the feed may be asked again (never asked: at once)."""
        if not self.last_poll:
            return self.not_before
        return max(self.last_poll + backoff(interval, self.failures), self.not_before)

    def succeeded(
        self, now: float, etag: str | None = None, last_modified: str | None = None
    ) -> FeedState:
        """Return the state after an answer: a 200's validators (None: a 304 keeps the old)."""
        return FeedState(
            etag=self.etag if etag is None else etag,
            last_modified=self.last_modified if last_modified is None else last_modified,
            last_poll=now,
            last_success=now,
        )

    def failed(self, now: float, reason: str, retry_after: float | None = None) -> FeedState:
        """Return the state after a failed poll: one more failure, and why."""
        wait = min(retry_after or 0.0, MAX_RETRY_AFTER)
        return replace(
            self,
            last_poll=now,
            failures=self.failures + 1,
            error=reason,
            not_before=now + wait if wait else 0.0,
        )


def state_path(seeds_dir: Path) -> Path:
    """Return where a seeds folder's feed state lives."""
    return Path(seeds_dir) / STATE_FILE


def load_states(seeds_dir: Path) -> dict[str, FeedState]:
    """Return each feed's state by URL; a missing or damaged file is an empty memory."""
    path = state_path(seeds_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in fields(FeedState)}
        return {
            url: FeedState(**{k: v for k, v in state.items() if k in names})
            for url, state in data["feeds"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        # Losing it costs one unconditional GET per feed, not a stopped poller.
        log.warning("feed state %s is unreadable (%s): starting afresh", path, err)
        return {}


def save_states(seeds_dir: Path, states: dict[str, FeedState]) -> None:
    """Write every feed's state in one atomic step."""
    data = {"version": 1, "feeds": {url: asdict(state) for url, state in states.items()}}
    write_atomic(state_path(seeds_dir), json.dumps(data, indent=1, sort_keys=True).encode())
