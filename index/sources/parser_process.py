"""Read article files (any format, index.sources.formats) in a child process that can be abandoned.

Cleaning is linear now, but the parser under it is not always: Python's html.parser takes
27-40 s on 48 KB of "<a " repeated (CVE-2025-6069 class; 96 KB: nearly 3 minutes), and a
thread cannot be stopped. A child process can: each file gets `budget` seconds, after which the
child is killed, the file is skipped with that reason, and a fresh child parses the next one.
The child is started on the first file to parse (~0.2 s) and serves the whole build.

Run as `python -m index.sources.parser_process`: it reads requests from stdin and answers on stdout.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import subprocess
import sys
from multiprocessing.connection import Connection
from types import TracebackType

from index.errors import ArticleError
from index.settings import child_environment
from index.sources.formats import Reading, read_file

PARSE_SECONDS = 20.0  # a real article parses in milliseconds; the worst honest one in ~2 s


class ParserProcess:
    """A child process that parses article bytes, with a time budget per file."""

    def __init__(self, budget: float = PARSE_SECONDS) -> None:
        self.budget = budget
        self._child: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None

    def __enter__(self) -> ParserProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def read(self, raw: bytes, path: str, article_id: str) -> Reading:
        """Read one file of any format (index.sources.formats); ArticleError if it is too slow."""
        if self._child is None:
            self._start()
        assert self._send is not None and self._recv is not None
        try:
            self._send.send_bytes(pickle.dumps((raw, path, article_id)))
            ready = self._recv.poll(self.budget)
            answer = pickle.loads(self._recv.recv_bytes()) if ready else None
        except (OSError, EOFError):  # the child died (out of memory?): start another
            self.close()
            raise ArticleError(path, "the parser process died on this file") from None
        if answer is None:
            self.close()  # kill it mid-parse: the next file gets a fresh one
            raise ArticleError(path, f"parsing took longer than {self.budget:g} s: not an article")
        if isinstance(answer, str):
            raise ArticleError(path, answer)
        return answer

    def close(self) -> None:
        """Stop the child process, if one runs."""
        if self._child is None:
            return
        for conn in (self._send, self._recv):
            if conn is not None:
                conn.close()
        self._child.kill()
        self._child.wait()
        self._child = self._send = self._recv = None

    def _start(self) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "index.sources.parser_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(PYTHONPATH=os.pathsep.join(sys.path)),
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self._send = Connection(os.dup(self._child.stdin.fileno()), readable=False)
        self._recv = Connection(os.dup(self._child.stdout.fileno()), writable=False)
        self._child.stdin.close()
        self._child.stdout.close()


def _die_with_parent() -> None:
    """Ask Linux to kill this child when its parent goes (a killed build leaves no orphan).

    Without it, a child deep in a pathological file would parse on for minutes after
    `qa index` was killed, and only notice at its next read.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the child still ends at its next read
        return
    if os.getppid() == 1:  # the parent went before the request took effect
        os._exit(0)


def serve() -> None:
    """Answer parse requests from stdin on stdout until stdin closes (the child's loop)."""
    _die_with_parent()
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    while True:
        try:
            raw, path, article_id = pickle.loads(requests.recv_bytes())
        except EOFError:
            return
        try:
            answer: Reading | str = read_file(raw, path, article_id)
        except ArticleError as err:
            answer = err.reason
        answers.send_bytes(pickle.dumps(answer))


if __name__ == "__main__":
    serve()
