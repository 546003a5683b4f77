"""The gunicorn worker `qa serve` runs: threaded, and no slow or idle client holds a thread.

gunicorn's own gthread worker hands every new connection to a thread at once; the thread
waits up to 5 s for a first byte, then reads the request from a blocking socket with no
timeout. A few dozen idle sockets queue everyone else for many seconds, and a client that sends
half a header holds its thread for good. This worker reads each request in its main loop,
without blocking, until the request is whole (head, and a body of up to BUFFER_BYTES), and only
then hands it to a thread: an idle or slow client costs a buffer, never a thread, and is closed
`keepalive` seconds after it connected (or after its previous answer). What a thread still has
to read itself (a body past BUFFER_BYTES, a client that asked for 100-continue) must arrive
within REQUEST_SECONDS. gunicorn's own error pages (bad request line, huge headers) go out as
the API's JSON errors. A question the gate has no place for is answered 503 by the main loop
itself (web/edge.py): no thread, no Flask; the 503 is held back HOLD_SECONDS first.
"""

from __future__ import annotations

import errno
import json
import re
import selectors
import socket
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus

from gunicorn.workers.gthread import TConn, ThreadWorker

from web.edge import EarlyRefusals
from web.metrics import shed_early

REQUEST_SECONDS = 10.0  # for what a thread must read itself, once it starts on a request
WRITE_SECONDS = 30.0  # per send: a client that stops reading its answer is let go
BUFFER_BYTES = 128 * 1024  # read ahead in the main loop; the API takes bodies up to 64 KiB
# A client that asks again the moment it is refused is the retry storm. However cheap a
# refusal, such clients ask as fast as they are answered, and their refusals take the cores
# and the GIL from the thread answering (2 cores, 32 such clients: 1 answer/s instead of 3).
# Held back a moment, a refusal caps each of them at a few requests a second; a polite client
# waits Retry-After (2 s) anyway. Past MAX_HELD connections held, refusals go out at once.
HOLD_SECONDS = 0.25
MAX_HELD = 256  # per worker, of its 1000 connections (gunicorn's --worker-connections)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LENGTH = re.compile(rb"^content-length:[ \t]*(\d{1,12})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)
_EXPECT = re.compile(rb"^expect:", re.I | re.M)
_REQUEST_LINE = re.compile(rb"([A-Z]+) ([^ ?#\r\n]+)(?:\?[^ \r\n]*)? HTTP/1\.([01])\r?\n")
_ANY_LENGTH = re.compile(rb"^content-length:", re.I | re.M)
_TRANSFER = re.compile(rb"^transfer-encoding:", re.I | re.M)
_CONNECTION = re.compile(rb"^connection:([^\r\n]*)", re.I | re.M)


def request_complete(data: bytes) -> bool:
    """Return whether data holds a whole request, or as much of it as the main loop keeps."""
    if len(data) >= BUFFER_BYTES:
        return True  # the rest is read by the thread, within REQUEST_SECONDS
    end = _HEAD_END.search(data)
    if end is None:
        return False
    head, body = data[: end.start()], data[end.end() :]
    if _EXPECT.search(head):
        return True  # the client waits for "100 Continue" before it sends the body
    length = _LENGTH.search(head)
    if length is not None:
        return len(body) >= int(length.group(1)) or int(length.group(1)) >= BUFFER_BYTES
    if _CHUNKED.search(head):
        return body.endswith(b"0\r\n\r\n") or body.endswith(b"0\n\n")
    return True


@dataclass(frozen=True)
class Head:
    """What the main loop needs to know of a request it read whole."""

    method: bytes
    path: bytes  # without the query
    version: str  # "1.1" or "1.0"
    keep_alive: bool  # what the client asked for
    length: int | None  # bytes of the request, head and body; None when not known here


def request_head(data: bytes) -> Head | None:
    """Return the head of the request data starts with; None if it is not plain HTTP/1.x."""
    line, end = _REQUEST_LINE.match(data), _HEAD_END.search(data)
    if line is None or end is None:
        return None
    head = data[: end.start()]
    connection = b",".join(_CONNECTION.findall(head)).lower()
    tokens = {token.strip() for token in connection.split(b",")}
    minor = line.group(3)
    keep_alive = b"close" not in tokens if minor == b"1" else b"keep-alive" in tokens
    length = None  # a body framed any other way is left to gunicorn's parser
    lengths = _LENGTH.findall(head)
    framed = len(lengths) == len(_ANY_LENGTH.findall(head)) <= 1 and not _TRANSFER.search(head)
    if framed and not _EXPECT.search(head):
        whole = end.end() + (int(lengths[0]) if lengths else 0)
        length = whole if whole <= len(data) else None
    return Head(line.group(1), line.group(2), f"1.{minor.decode()}", keep_alive, length)


@dataclass(frozen=True)
class Refused:
    """A question refused in the main loop, its 503 not sent yet."""

    conn: TConn
    head: Head
    route: str  # its URL rule, for the metrics
    message: str  # why the gate refused it
    started: float  # perf_counter when the main loop took it up
    due: float  # monotonic time the 503 goes out


class ClientSocket(socket.socket):
    """A client socket that first replays what the main loop read, and reads with deadlines."""

    deadline = float("inf")
    early = b""  # bytes the main loop read ahead, handed to gunicorn's parser first

    def setblocking(self, flag: bool) -> None:
        """Start the request's deadline when gunicorn switches to blocking reads."""
        if not flag:
            super().setblocking(False)
            return
        # gunicorn makes the socket blocking as a thread starts on each request.
        self.deadline = time.monotonic() + REQUEST_SECONDS
        self.settimeout(WRITE_SECONDS)

    def read_ahead(self) -> bool:
        """Read what has arrived, without blocking; return False once the client is gone."""
        try:
            data = super().recv(BUFFER_BYTES - len(self.early))
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        self.early += data
        return bool(data)

    def recv(self, size: int, flags: int = 0) -> bytes:
        """Read; past the request's deadline, read nothing, as if the client had hung up."""
        if self.early:
            data, self.early = self.early[:size], self.early[size:]
            return data
        if self.gettimeout() == 0.0:  # non-blocking: gunicorn's own peeks, no deadline
            return super().recv(size, flags)
        left = self.deadline - time.monotonic()
        if left <= 0:
            return b""
        self.settimeout(min(left, WRITE_SECONDS))
        try:
            return super().recv(size, flags)
        except TimeoutError:
            # An end of data, not an error: gunicorn closes the connection quietly (a
            # timeout would log a traceback per slow client) and a body reader sees it short.
            return b""

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """Write with a fixed timeout, whatever the last read left on the socket."""
        if self.gettimeout() != 0.0:
            self.settimeout(WRITE_SECONDS)
        super().sendall(data, flags)


class _Capture:
    """Stand in for a client socket while gunicorn writes an error page, to keep its bytes."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        """Claim to be non-blocking, so gunicorn writes without touching the mode."""
        return 0.0

    def sendall(self, data: bytes) -> None:
        """Keep what gunicorn would have sent."""
        self.data += data


def json_error_page(page: bytes) -> bytes:
    """Rewrite gunicorn's HTML error response as a JSON error with the same status."""
    status_line = page.split(b"\r\n", 1)[0].decode("latin-1")  # "HTTP/1.1 414 URI Too Long"
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 400
    reason = parts[2] if len(parts) > 2 else HTTPStatus(status).phrase
    code = reason.lower().replace(" ", "_").replace("-", "_") or "bad_request"
    body = json.dumps({"error": {"code": code, "message": f"{reason}: the request was refused"}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body.encode()


class GuardedWorker(ThreadWorker):
    """gunicorn's gthread worker; requests are read whole in the main loop, then answered."""

    refusals: EarlyRefusals | None = None  # set once the app is loaded
    questions = 0  # questions handed to threads and not finished: the gate's line, or more
    hold = HOLD_SECONDS
    clock = staticmethod(time.monotonic)  # when held refusals are due
    held: deque[Refused]  # in due order: each is held the same time

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - gunicorn's
        super().__init__(*args, **kwargs)
        self.held = deque()

    def load_wsgi(self) -> None:
        """Load the app, and see whether it has a question gate to refuse questions for."""
        super().load_wsgi()
        self.refusals = EarlyRefusals.of(self.wsgi)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Wait for events as gunicorn does, but no later than the next held refusal is due."""
        if self.held:
            timeout = min(timeout, max(0.0, self.held[0].due - self.clock()))
        super().wait_for_and_dispatch_events(timeout)
        self.release_held()

    def release_held(self) -> None:
        """Send the held refusals that are due."""
        now = self.clock()
        while self.held and self.held[0].due <= now:
            self._send_refusal(self.held.popleft())

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and wait, in the poller, for its first request."""
        try:
            plain, addr = listener.accept()
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        client = ClientSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        self.nr_conns += 1
        self._wait_for_request(TConn(self.cfg, client, addr, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """Read a kept-alive connection's next request in the main loop too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._wait_for_request(conn)
        self._on_bytes(conn, client)

    def finish_request(self, conn: TConn, fs) -> None:  # noqa: ANN001 - gunicorn's API
        """Finish as gunicorn does; a next request read ahead already is answered at once.

        (Its bytes are in our buffer, not the kernel's: the poller would never see them.)
        """
        if getattr(conn, "question", False):
            conn.question = False
            self.questions -= 1
        super().finish_request(conn, fs)
        if conn.sock.early and conn in self.keepalived_conns:
            self.on_client_socket_readable(conn, conn.sock)

    def _wait_for_request(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive  # then it is closed unanswered
        self.pending_conns.append(conn)  # murder_pending closes the expired ones
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))

    def _on_bytes(self, conn: TConn, client: socket.socket) -> None:
        alive = conn.sock.read_ahead()
        if alive and not request_complete(conn.sock.early):
            return  # wait for the rest, in the poller
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        if not alive and not conn.sock.early:
            self.nr_conns -= 1
            conn.close()
            return
        if alive and self._refused_early(conn):
            return
        conn.data_ready = True
        self.enqueue_req(conn)

    def _refused_early(self, conn: TConn) -> bool:
        """Refuse here a question the gate has no place for (a held 503); return whether it did.

        A question let through is counted until its thread is done: a crowd that arrives at
        once would otherwise all be let through before the first of them reached the gate.
        """
        started = time.perf_counter()
        head = request_head(conn.sock.early) if self.refusals is not None else None
        route = head and self.refusals.route(head.method, head.path)
        if not route:
            return False
        refused = self.refusals.refusal(self.questions)
        if refused is None or head.length is None:  # else the gate refuses it in Flask
            self.questions += 1
            conn.question = True
            return False
        if self.hold > 0 and len(self.held) < MAX_HELD:
            self.held.append(Refused(conn, head, route, refused, started, self.clock() + self.hold))
        else:
            self._send_refusal(Refused(conn, head, route, refused, started, 0.0))
        return True

    def _send_refusal(self, refused: Refused) -> None:
        """Send a refusal's 503; keep its connection alive for the next request, or close it."""
        conn, head = refused.conn, refused.head
        # Kept alive if the client asks, as gunicorn would: a retry on the same connection
        # costs one read and one write here; a closed one costs an accept, a new socket and
        # its registration, and the client a handshake, for every retry.
        keep = head.keep_alive and self.alive and self.cfg.keepalive > 0
        keep = keep and len(self.keepalived_conns) < self.max_keepalived
        reply = self.refusals.reply(refused.message, head.version, keep)
        try:  # non-blocking: a client that does not take 300 bytes at once is let go
            sent = conn.sock.send(reply)
        except OSError:
            sent = 0
        # Not access-logged: a storm would write thousands of lines a second; the metrics
        # count every one (newsqa_shed_early_total).
        shed_early(refused.route, head.method.decode(), time.perf_counter() - refused.started)
        if not keep or sent != len(reply):
            self.nr_conns -= 1
            conn.close()
            return
        conn.sock.early = conn.sock.early[head.length :]
        conn.set_timeout()
        self.keepalived_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )
        if conn.sock.early:  # pipelined: next loop turn, so a long pipeline cannot recurse
            self.method_queue.defer(self._pipelined, conn)

    def _pipelined(self, conn: TConn) -> None:
        if conn in self.keepalived_conns:  # not timed out and closed meanwhile
            self.on_client_socket_readable(conn, conn.sock)

    def handle_error(self, req, client, addr, exc) -> None:  # noqa: ANN001 - gunicorn's API
        """Answer a request gunicorn itself refused (or failed) with a JSON error."""
        page = _Capture()
        super().handle_error(req, page, addr, exc)
        try:
            client.sendall(json_error_page(page.data))
        except OSError:
            self.log.debug("could not send the error response")
