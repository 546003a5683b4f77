"""`qa serve` (gunicorn, guarded threaded workers) against idle, slow and crowding clients.

Time limits here are the issue's promises, used as client timeouts (a reply later than that
counts as none), never as measurements; bench/hardening.py measures.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import SEEDS, TINY
from test_hostile import HOSTILE_ASKS

QA = Path(sys.executable).parent / "qa"
pytestmark = [pytest.mark.slow, pytest.mark.model]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _send(port: int, method: str, path: str, body=b"", timeout: float = 10, headers=None):
    """Return (status, content type, parsed JSON body) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        chunked = isinstance(body, list)
        conn.request(
            method,
            path,
            iter(body) if chunked else body,
            {"Content-Type": "application/json", **(headers or {})},
            encode_chunked=chunked,
        )
        response = conn.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, json.loads(data) if "json" in kind else data
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`qa serve` with 2 workers of 4 threads, 2 questions queued each, over the tiny seeds."""
    from index.build import build
    from index.embedder.runtime import load_embedder

    work = tmp_path_factory.mktemp("serve-limits")
    (work / "seeds").mkdir()
    for name in TINY:
        shutil.copy(SEEDS / name, work / "seeds" / name)
    build(work / "seeds", work / "ix", load_embedder())
    port = _free_port()
    log = open(work / "serve.log", "wb")  # noqa: SIM115 - closed below
    cmd = [str(QA), "serve", "--index", str(work / "ix"), "--seeds", str(work / "seeds")]
    cmd += ["--port", str(port), "--workers", "2", "--threads", "4", "--max-queue", "2"]
    cmd += ["--keep-alive", "2"]
    env = {**os.environ, "NEWSQA_ADMIN_TOKEN": "secret"}
    env.pop("NEWSQA_MAX_QUEUE", None)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if _send(port, "GET", "/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server never came up"
            time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        # Also a test of stopping: workers whose elastic sessions had opened a two-thread pool
        # hung here until web/gunicorn_hooks.worker_exit skipped the interpreter's teardown.
        proc.wait(30)
        log.close()


def _idle_sockets(port: int, n: int) -> list[socket.socket]:
    """Open n connections: half send nothing, half stop in the middle of their header."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
    for s in socks[::2]:
        s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: app")
    return socks


def test_idle_and_half_sent_requests_never_keep_healthz_waiting(server):
    for _ in range(4):  # fresh idle sockets each round: new ones are the worst case
        socks = _idle_sockets(server, 50)
        slow_body = socket.create_connection(("127.0.0.1", server), timeout=5)
        slow_body.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"question": '
        )
        socks.append(slow_body)
        for _ in range(3):
            status, _, health = _send(server, "GET", "/healthz", timeout=2)
            assert status == 200 and health["index_loaded"] is True
            time.sleep(0.3)
        for s in socks:
            s.close()


def test_pipelined_requests_are_all_answered(server):
    body = json.dumps({"question": "Bird European expansion", "k": 1}).encode() + b" " * 20_000
    first = (
        b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server), timeout=30) as s:
        s.sendall(first + second)  # both at once: the second sits behind the first's body
        reader = s.makefile("rb")
        for _ in range(2):
            status = reader.readline()
            assert status.split()[1] == b"200", status
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            json.loads(reader.read(length))


def test_a_client_that_stops_sending_is_let_go(server):
    stalled = socket.create_connection(("127.0.0.1", server), timeout=30)
    stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    assert stalled.recv(1024) == b""  # closed unanswered after keep-alive (2 s)
    stalled.close()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /api/articles/" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"NOT A REQUEST LINE\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),
    ],
    ids=["uri-too-long", "bad-request-line", "too-many-headers"],
)
def test_errors_gunicorn_answers_itself_are_json(server, raw, status):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as s:
        s.sendall(raw)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode()
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"]


@pytest.mark.parametrize(
    ("body", "status", "code"), [h[1:] for h in HOSTILE_ASKS], ids=[h[0] for h in HOSTILE_ASKS]
)
def test_hostile_questions_through_gunicorn(server, body, status, code):
    got, kind, answer = _send(server, "POST", "/api/ask", body)
    assert kind.startswith("application/json") and got in (status, 503), answer
    if got == status and code:
        assert answer["error"]["code"] == code


@pytest.mark.parametrize("path", ["/api/articles//etc/passwd", "/api/articles/%2fetc%2fpasswd"])
def test_empty_path_segments_are_json_404s(server, path):
    status, kind, body = _send(server, "GET", path)
    assert status == 404 and kind.startswith("application/json") and body["error"]


def test_a_chunked_body_over_the_limit_is_413(server):
    padded = [b'{"question": "Bird"}', b" " * 35_000, b" " * 35_000]
    status, _, body = _send(server, "POST", "/api/ask", padded)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    nested = [b'{"full": ', b'{"a":' * 5000, b"1" + b"}" * 5001]
    auth = {"Authorization": "Bearer secret"}
    status, _, body = _send(server, "POST", "/api/rebuild", nested, headers=auth)
    assert status == 400 and body["error"]["code"] == "bad_json"


def test_32_clients_get_answers_or_fast_503s_and_healthz_answers_throughout(server):
    questions = ["how much did Alibaba invest?", "Bird European expansion", "who bought Voyage?"]
    stop = time.monotonic() + 20
    replies: list[int] = []
    health: list[int] = []
    failures: list[str] = []

    def ask(n: int) -> None:
        while time.monotonic() < stop:
            body = json.dumps({"question": questions[n % len(questions)]}).encode()
            try:  # a reply later than 10 s counts as none
                replies.append(_send(server, "POST", "/api/ask", body, timeout=10)[0])
            except OSError as err:
                failures.append(f"ask: {err!r}")
            n += 1

    def probe() -> None:
        while time.monotonic() < stop:
            try:
                health.append(_send(server, "GET", "/healthz", timeout=5)[0])
            except OSError as err:
                failures.append(f"healthz: {err!r}")
            time.sleep(0.5)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(32)]
    threads.append(threading.Thread(target=probe))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures[:5]
    assert set(replies) <= {200, 503} and 200 in replies and 503 in replies
    assert health and set(health) == {200}
