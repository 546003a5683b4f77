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
the API's JSON errors.
"""

from __future__ import annotations

import errno
import json
import re
import selectors
import socket
import time
from functools import partial
from http import HTTPStatus

from gunicorn.workers.gthread import TConn, ThreadWorker

REQUEST_SECONDS = 10.0  # for what a thread must read itself, once it starts on a request
WRITE_SECONDS = 30.0  # per send: a client that stops reading its answer is let go
BUFFER_BYTES = 128 * 1024  # read ahead in the main loop; the API takes bodies up to 64 KiB
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LENGTH = re.compile(rb"^content-length:[ \t]*(\d{1,12})[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)
_EXPECT = re.compile(rb"^expect:", re.I | re.M)


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
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle_error(self, req, client, addr, exc) -> None:  # noqa: ANN001 - gunicorn's API
        """Answer a request gunicorn itself refused (or failed) with a JSON error."""
        page = _Capture()
        super().handle_error(req, page, addr, exc)
        try:
            client.sendall(json_error_page(page.data))
        except OSError:
            self.log.debug("could not send the error response")
