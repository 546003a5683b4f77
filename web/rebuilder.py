"""A rebuild of the index run in a background thread, its progress kept in a status file.

The status lives in `<index>/rebuild.json` rather than in memory because gunicorn runs several
worker processes: the worker that started a rebuild may not be the one asked for its progress.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from index.build import BuildLock, build, pid_alive
from index.embedder.runtime import Embedder
from index.errors import BuildLocked, IndexError_
from index.stores.base import StoreBackend

log = logging.getLogger(__name__)

STATUS_FILE = "rebuild.json"
PROGRESS_EVERY = 0.5  # seconds between status writes while embedding


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Rebuilder:
    """Start `index.build.build` in a thread and report what it is doing."""

    def __init__(
        self,
        seeds_dir: Path,
        index_dir: Path,
        embedder: Callable[[], Embedder],
        on_done: Callable[[], None] = lambda: None,
        backend: StoreBackend | None = None,
    ) -> None:
        self.backend = backend  # where the builds put the vectors
        self.seeds_dir = Path(seeds_dir)
        self.index_dir = Path(index_dir)
        self._embedder = embedder  # called in the thread: the model may load lazily
        self._on_done = on_done
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def status_path(self) -> Path:
        """Return where the status of the last rebuild is written."""
        return self.index_dir / STATUS_FILE

    def start(self, *, full: bool = False) -> dict:
        """Start a rebuild and return its first status; raise BuildLocked if one is running.

        The build lock is taken here, before the caller answers 202, and the thread keeps it
        to the end: of two requests at once (in two workers) exactly one gets it, and only
        the build that owns the lock ever writes the status file.
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise BuildLocked("a rebuild started by this server is still running")
            lock = BuildLock(self.index_dir)
            lock.acquire()
            try:
                status = {
                    "state": "running",
                    "started": _now(),
                    "finished": None,
                    "seeds": str(self.seeds_dir),
                    "full": full,
                    "progress": None,
                    "report": None,
                    "error": None,
                    "pid": os.getpid(),
                }
                self._write(status)
                self._thread = threading.Thread(
                    target=self._run, args=(status, full, lock), name="newsqa-rebuild", daemon=True
                )
                self._thread.start()
            except BaseException:
                lock.release()
                raise
            return status

    def status(self) -> dict:
        """Return the status of the running or last rebuild ("idle" if there was none)."""
        try:
            status = json.loads(self.status_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"state": "idle"}
        except (OSError, ValueError) as err:
            return {"state": "idle", "error": {"code": "status_unreadable", "message": str(err)}}
        if status.get("state") == "running" and not pid_alive(int(status.get("pid") or 0)):
            status["state"] = "failed"
            status["error"] = {
                "code": "interrupted",
                "message": "the server process running this rebuild stopped before it ended",
            }
        return status

    def wait(self, timeout: float | None = None) -> None:
        """Wait for this server's rebuild thread to end (for tests and shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, first: dict, full: bool, lock: BuildLock) -> None:
        try:
            self._build(first, full)
        finally:
            lock.release()  # after the final status: a new rebuild can't be overwritten by it

    def _build(self, first: dict, full: bool) -> None:
        status = dict(first)  # this thread's own copy, updated as the build goes
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if time.monotonic() - last >= PROGRESS_EVERY or done == total:
                last = time.monotonic()
                status["progress"] = {"done": done, "total": total}
                self._write(status)

        try:
            report = build(
                self.seeds_dir,
                self.index_dir,
                self._embedder(),
                full=full,
                progress=progress,
                backend=self.backend,
                locked=True,
            )
            self._on_done()  # this worker switches before the status says "done"
        except IndexError_ as err:  # bad seeds folder, unreadable index
            final = {"state": "failed", "error": {"code": "build_failed", "message": str(err)}}
        except Exception as err:  # a thread has no caller: record it or it is lost
            log.exception("rebuild failed")
            final = {"state": "failed", "error": {"code": "internal", "message": repr(err)}}
        else:
            final = {"state": "done", "report": report.to_json()}
        self._write({**status, **final, "finished": _now()})

    def _write(self, status: dict) -> None:
        """Replace the status file atomically so a reader never sees half of it."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.index_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(status, indent=2), encoding="utf-8")
        os.replace(tmp, self.status_path)
