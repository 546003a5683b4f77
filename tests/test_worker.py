"""The guarded gunicorn worker's pieces: when a request has arrived, JSON error pages."""

from __future__ import annotations

import json

import pytest

from web.worker import json_error_page, request_complete


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
