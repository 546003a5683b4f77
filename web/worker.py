"""The gunicorn worker `qa serve` runs: threaded, and no client can hold a thread for long.

gunicorn's own gthread worker hands every new connection to a thread at once, and that thread
waits up to 5 s for the first byte, then reads the request from a blocking socket with no
timeout: a few dozen idle sockets queue everyone else for many seconds, and a client that sends
half a header holds its thread for good. This worker keeps new connections in the main loop's
poller until they are readable (an idle one costs no thread and is closed after `keepalive`
seconds), gives each request a deadline to arrive in full, and writes gunicorn's own error
pages (bad request line, headers too large) as the API's JSON errors.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import time
from functools import partial
from http import HTTPStatus

from gunicorn.workers.gthread import TConn, ThreadWorker

REQUEST_SECONDS = 10.0  # to send a whole request (line, headers, body), once it has begun
WRITE_SECONDS = 30.0  # per send: a client that stops reading its answer is let go


class ClientSocket(socket.socket):
    """A client socket on which 'blocking' means: until the request's deadline, then fail."""

    deadline = float("inf")

    def setblocking(self, flag: bool) -> None:
        """Start the request's deadline when gunicorn switches to blocking reads."""
        if not flag:
            super().setblocking(False)
            return
        # gunicorn makes the socket blocking as it starts on each request of the connection.
        self.deadline = time.monotonic() + REQUEST_SECONDS
        self.settimeout(WRITE_SECONDS)

    def recv(self, size: int, flags: int = 0) -> bytes:
        """Read; past the request's deadline, read nothing, as if the client had hung up."""
        if self.gettimeout() == 0.0:  # the poller's non-blocking peek: no deadline
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
    """gunicorn's gthread worker, with connections polled until readable and deadlines."""

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and wait, in the poller, for it to send something."""
        try:
            plain, addr = listener.accept()
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        client = ClientSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        self.nr_conns += 1
        conn = TConn(self.cfg, client, addr, listener.getsockname())  # non-blocking now
        conn.timeout = time.monotonic() + self.cfg.keepalive  # then it is closed unanswered
        self.pending_conns.append(conn)
        self.poller.register(
            client, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def handle_error(self, req, client, addr, exc) -> None:  # noqa: ANN001 - gunicorn's API
        """Answer a request gunicorn itself refused (or failed) with a JSON error."""
        page = _Capture()
        super().handle_error(req, page, addr, exc)
        try:
            client.sendall(json_error_page(page.data))
        except OSError:
            self.log.debug("could not send the error response")
