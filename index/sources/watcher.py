"""Watch a seeds folder and rebuild once a burst of changes has settled.

inotify (through watchdog) says when a file is closed after writing, so a file still being
written is not read: the rebuild waits until every file written to has been closed, or has
seen no write for `stall` seconds (a writer that holds a file open and idle). Where inotify
cannot be used (another OS, a network folder, no watches left) the folder is polled, and a
file counts as complete once its size and time stop changing between two polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

QUIET = 0.3  # seconds without an event before a burst (a copy of many files) is over
STALL = 10.0  # seconds an open, unwritten file may wait before it is read as it is
POLL = 0.5  # seconds between two looks at the folder when polling
TICK = 0.05
# Opening and reading a file (the rebuild reads every seed) is not a change.
_IGNORED = frozenset(("opened", "closed_no_write"))


class _Changes(FileSystemEventHandler):
    """Collect events: when the last one came, and which files are still being written."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.lock = threading.Lock()
        self.dirty = False
        self.last = float("-inf")
        self.writing: dict[str, float] = {}  # path -> when it was last written
        self._clock = clock

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED:
            return
        names = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if all(Path(n).name.startswith(".") for n in names if n):
            return  # hidden files are never seeds: a copy tool's temp file, say
        now = self._clock()
        with self.lock:
            if event.is_directory and event.event_type == "modified":
                return  # the file event inside it says what happened
            self.dirty, self.last = True, now
            path = names[0]
            if event.is_directory:
                return
            if event.event_type in ("created", "modified"):
                self.writing[path] = now
            else:  # closed after writing, moved away, deleted: no longer being written
                self.writing.pop(path, None)

    def ready(self, settle: float) -> bool:
        """Return whether a rebuild is due now (and mark it taken)."""
        now = self._clock()
        with self.lock:
            if not self.dirty or now - self.last < QUIET:
                return False
            self.writing = {p: t for p, t in self.writing.items() if now - t < settle}
            if self.writing:
                return False
            self.dirty = False
            return True


class SeedsWatcher:
    """Call `rebuild` after each settled burst of changes in a seeds folder, until stopped."""

    def __init__(
        self,
        seeds_dir: Path,
        rebuild: Callable[[], None],
        *,
        polling: bool = False,
        catch_up: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """catch_up: rebuild once as soon as watching starts (what changed while nobody did)."""
        self.seeds_dir = Path(seeds_dir)
        self.rebuild = rebuild
        self.polling = polling
        self.watching = threading.Event()  # set once changes are being seen
        self._changes = _Changes(clock)
        self._changes.dirty = catch_up

    def _observer(self) -> BaseObserver:
        """Start inotify on the folder, or polling if inotify is not to be had."""
        if not self.polling:
            observer = Observer()
            try:
                observer.schedule(self._changes, str(self.seeds_dir), recursive=True)
                observer.start()
                return observer
            except OSError as err:  # e.g. inotify watch limit reached
                log.warning("cannot watch %s with inotify (%s): polling", self.seeds_dir, err)
                self.polling = True
        observer = PollingObserver(timeout=POLL)
        observer.schedule(self._changes, str(self.seeds_dir), recursive=True)
        observer.start()
        return observer

    def run(self, stop: threading.Event) -> None:
        """Watch until `stop` is set; each rebuild runs in this thread, one at a time."""
        observer = self._observer()
        # Polling sees no close: a file is complete when two polls agree on it.
        settle = 2 * POLL + QUIET if self.polling else STALL
        self.watching.set()
        try:
            while not stop.wait(TICK):
                if self._changes.ready(settle):
                    try:
                        self.rebuild()
                    except Exception:  # a watcher has no caller: log it and watch on
                        log.exception("rebuild after a change in %s failed", self.seeds_dir)
        finally:
            self.watching.clear()
            observer.stop()
            observer.join()
