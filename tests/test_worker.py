"""The guarded gunicorn worker's pieces: when a request has arrived, what it is, JSON error
pages, and questions refused in its main loop (a real poller and sockets, no process)."""

from __future__ import annotations

import json
import selectors
import socket
from collections import deque
from concurrent import futures
from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import PollableMethodQueue, TConn

from tests.test_metrics import grown, one, requests, scrape
from web.edge import EarlyRefusals
from web.gate import QuestionGate
from web.worker import (
    ClientSocket,
    GuardedWorker,
    Head,
    json_error_page,
    request_complete,
    request_head,
)


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (b"", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc", False),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", True),  # too big to hold
        (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", False),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nHost: " + b"x" * 200_000, True),  # the parser refuses it
    ],
)
def test_when_a_request_has_arrived(data, complete):
    assert request_complete(data) is complete


def test_gunicorn_error_pages_become_json():
    page = b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n\r\n<html>...</html>"
    head, _, body = json_error_page(page).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long") and b"application/json" in head
    assert json.loads(body) == {
        "error": {"code": "uri_too_long", "message": "URI Too Long: the request was refused"}
    }


@pytest.mark.parametrize(
    ("data", "method", "path", "version", "keep_alive", "length"),
    [
        (b"POST /api/ask HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /", b"POST", b"/api/ask",
         "1.1", True, 48),
        (b"POST /api/ask?x=1 HTTP/1.1\r\nConnection: te, close\r\n\r\n", b"POST", b"/api/ask",
         "1.1", False, 53),
        (b"POST /api/ask HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", b"POST", b"/api/ask",
         "1.0", True, 50),
        (b"POST /api/ask HTTP/1.0\r\n\r\n", b"POST", b"/api/ask", "1.0", False, 26),
        (b"GET /healthz HTTP/1.1\r\n\r\n", b"GET", b"/healthz", "1.1", True, 25),
        # Framed some other way, or not well: the length is gunicorn's parser's to find.
        (b"POST /api/ask HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", b"POST", b"/api/ask",
         "1.1", True, None),
        (b"POST /api/ask HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", b"POST",
         b"/api/ask", "1.1", True, None),
        (b"POST /api/ask HTTP/1.1\r\nContent-Length: x\r\n\r\na", b"POST", b"/api/ask", "1.1",
         True, None),
        (b"POST /api/ask HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"POST",
         b"/api/ask", "1.1", True, None),
        (b"POST /api/ask HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", b"POST",
         b"/api/ask", "1.1", True, None),
    ],
)  # fmt: skip
def test_the_head_of_a_request_read_whole(data, method, path, version, keep_alive, length):
    assert request_head(data) == Head(method, path, version, keep_alive, length)


@pytest.mark.parametrize(
    "data", [b"NOT A REQUEST\r\n\r\n", b"POST /api/ask HTTP/1.1\r\n", b"PRI * HTTP/2.0\r\n\r\n"]
)
def test_what_is_not_plain_http1_has_no_head(data):
    assert request_head(data) is None


# --- the main loop: questions the gate has no place for are answered there ---

QUESTION = json.dumps({"question": "Bird European expansion"}).encode()


def ask(headers: bytes = b"") -> bytes:
    return (
        b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + headers
        + b"Content-Length: %d\r\n\r\n" % len(QUESTION)
        + QUESTION
    )


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


class Client:
    """A client's end of a connection the worker accepted: send requests, read replies."""

    def __init__(self, worker: LoopWorker) -> None:
        ours, self.sock = socket.socketpair()
        self.sock.settimeout(5)
        self.reader = self.sock.makefile("rb")  # keeps what it read ahead for the next reply
        server_end = ClientSocket(ours.family, ours.type, ours.proto, fileno=ours.detach())
        self.conn = TConn(worker.cfg, server_end, ("client", 1), ("server", 2))
        self.worker = worker
        worker.clients.append(self)
        worker.nr_conns += 1
        worker._wait_for_request(self.conn)  # as accept() leaves it

    def send(self, data: bytes) -> None:
        """Send data, and let the worker's main loop read it as its poller would."""
        self.sock.sendall(data)
        self.worker.poller.get_key(self.conn.sock).data(self.conn.sock)

    def reply(self) -> tuple[bytes, dict[str, str], bytes]:
        """Read one response: status line, headers, body."""
        status = self.reader.readline().rstrip()
        assert status, "the connection was closed"
        headers = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name] = value.strip()
        return status, headers, self.reader.read(int(headers["Content-Length"]))

    def status(self) -> int:
        return int(self.reply()[0].split()[1])


class LoopWorker(GuardedWorker):
    """GuardedWorker's main loop without gunicorn's process around it; threads are a list."""

    hold = 0.0  # refusals go out at once, but in test_a_refusal_is_held_back_a_moment

    def __init__(self, app) -> None:  # noqa: ANN001 - a Flask app
        self.cfg = SimpleNamespace(keepalive=5)
        self.alive, self.nr_conns, self.max_keepalived = True, 0, 100
        self.poller = selectors.DefaultSelector()
        self.method_queue = PollableMethodQueue()
        self.method_queue.init()
        self.keepalived_conns, self.pending_conns = deque(), deque()
        self.wsgi = app
        self.refusals = EarlyRefusals.of(app)
        self.held = deque()
        self.handed: list[TConn] = []  # what went to a thread (and so to Flask)
        self.clients: list[Client] = []

    def close(self) -> None:
        """Close every socket the test opened."""
        for client in self.clients:
            client.reader.close()
            client.sock.close()
            client.conn.sock.close()
        self.poller.close()
        self.method_queue.close()

    def enqueue_req(self, conn: TConn) -> None:
        self.handed.append(conn)

    def done(self, client: Client) -> None:
        """Finish a handed request as a thread would, the client having hung up."""
        client.sock.close()
        self.handed.remove(client.conn)
        future: futures.Future = futures.Future()
        future.set_result(False)
        self.finish_request(client.conn, future)


@pytest.fixture
def loop(app):
    """Return a LoopWorker over the app (make it after setting the gate); close it after."""
    made: list[LoopWorker] = []

    def make() -> LoopWorker:
        made.append(LoopWorker(app))
        return made[-1]

    yield make
    for worker in made:
        worker.close()


@pytest.fixture
def full(app):
    """The app with a gate of one place, taken while the test runs."""
    gate = app.extensions["newsqa.gate"] = QuestionGate(limit=1, wait=5.0)
    with gate.admit():
        yield gate


def test_a_question_with_no_place_is_refused_in_the_main_loop_as_flask_would(
    app, client, full, loop
):
    flask = client.post("/api/ask", json=json.loads(QUESTION))
    worker = loop()
    asking = Client(worker)
    asking.send(ask())
    status, headers, body = asking.reply()
    assert not worker.handed  # no thread, no Flask
    assert status == b"HTTP/1.1 503 Service Unavailable" and flask.status_code == 503
    assert body == flask.get_data() and json.loads(body)["error"]["code"] == "overloaded"
    for name in ("Content-Type", "Content-Length", "Retry-After", "X-Content-Type-Options"):
        assert headers[name] == flask.headers[name], name
    assert headers["Connection"] == "keep-alive" and headers["Server"] == "gunicorn"
    assert asking.conn in worker.keepalived_conns and not asking.conn.sock.early  # next one


def test_healthz_and_other_requests_still_go_to_flask_while_questions_are_shed(
    app, client, full, loop
):
    worker = loop()
    chunked = b"POST /api/ask HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    for request in (
        HEALTHZ,
        b"GET /api/articles HTTP/1.1\r\n\r\n",
        b"POST /api/saved HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  # gated, but never refused
        chunked + b"%x\r\n%s\r\n0\r\n\r\n" % (len(QUESTION), QUESTION),  # Flask refuses it
    ):
        other = Client(worker)
        other.send(request)
        assert worker.handed[-1] is other.conn
    assert client.get("/healthz").status_code == 200


def test_a_main_loop_refusal_is_counted_as_flask_counts_its_own(app, client, full, loop):
    before = scrape(client)
    asking = Client(loop())
    asking.send(ask())
    assert asking.status() == 503
    assert client.post("/api/ask", json=json.loads(QUESTION)).status_code == 503  # in Flask
    after = scrape(client)
    assert grown(before, after, requests("/api/ask", "POST", "503")) == 2
    assert grown(before, after, one("newsqa_shed_total")) == 2
    assert grown(before, after, one("newsqa_shed_early_total")) == 1
    assert grown(before, after, one("newsqa_http_request_seconds_count", route="/api/ask")) == 2


def test_pipelined_questions_are_each_answered_and_close_is_honoured(app, full, loop):
    worker = loop()
    asking = Client(worker)
    asking.send(ask() + ask() + ask(b"Connection: close\r\n"))
    assert asking.reply()[1]["Connection"] == "keep-alive"
    for _ in range(2):  # the rest, a loop turn each (method_queue), never recursively
        worker.method_queue.run_callbacks(None)
    assert asking.reply()[1]["Connection"] == "keep-alive"
    assert asking.reply()[1]["Connection"] == "close"
    assert asking.reader.read() == b"" and worker.nr_conns == 0 and not worker.handed


def test_a_crowd_arriving_at_once_is_let_through_only_as_far_as_the_gate_has_places(app, loop):
    gate = app.extensions["newsqa.gate"] = QuestionGate(limit=2, wait=5.0)
    worker = loop()
    crowd = [Client(worker) for _ in range(5)]
    for asking in crowd:  # none has reached the gate yet: the worker counts them
        asking.send(ask())
    assert worker.handed == [crowd[0].conn, crowd[1].conn] and gate.inside == 0
    assert [asking.status() for asking in crowd[2:]] == [503, 503, 503]
    worker.done(crowd[0])  # one answered: one place again
    crowd[2].send(ask())
    assert worker.handed == [crowd[1].conn, crowd[2].conn]


def test_while_the_line_stands_only_one_question_may_wait(app, loop):
    gate = app.extensions["newsqa.gate"] = QuestionGate(limit=4, wait=5.0)
    gate.delay.standing = True
    worker = loop()
    crowd = [Client(worker) for _ in range(3)]
    for asking in crowd:
        asking.send(ask())
    assert len(worker.handed) == 2  # one to answer, one to follow at once
    assert "for their turn" in json.loads(crowd[2].reply()[2])["error"]["message"]


def test_a_refusal_is_held_back_a_moment(app, client, full, loop):
    worker = loop()
    worker.hold, now = 0.25, [50.0]
    worker.clock = lambda: now[0]
    before = scrape(client)
    asking = Client(worker)
    asking.send(ask())
    assert not worker.handed and len(worker.held) == 1
    asking.sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        asking.sock.recv(1)  # nothing yet
    now[0] += 0.2
    worker.release_held()
    assert len(worker.held) == 1
    now[0] += 0.05
    worker.wait_for_and_dispatch_events(60.0)  # the loop waits no later than the refusal's due
    asking.sock.setblocking(True)
    assert not worker.held and asking.status() == 503
    assert grown(before, scrape(client), one("newsqa_shed_early_total")) == 1
    healthz = Client(worker)
    healthz.send(HEALTHZ)
    assert worker.handed == [healthz.conn]  # nothing else waits behind a held refusal


def test_past_the_most_held_refusals_go_out_at_once(app, full, loop, monkeypatch):
    monkeypatch.setattr("web.worker.MAX_HELD", 2)
    worker = loop()
    worker.hold = 10.0
    crowd = [Client(worker) for _ in range(3)]
    for asking in crowd:
        asking.send(ask())
    assert [held.conn for held in worker.held] == [crowd[0].conn, crowd[1].conn]
    assert crowd[2].status() == 503
