"""Questions refused in the worker's main loop: the gate's verdict and the 503's bytes.

Under a retry storm almost every request is a question to refuse. Refused through Flask, each
costs a thread and a whole request's worth of Python (parsing, routing, hooks, JSON), and those
threads take the GIL and the cores from the one thread answering. web/worker.py asks this
module about each question it has read whole; one the gate has no place for is answered there
with the bytes the app's own error handler would have sent (built once per message, by
`error_response`), and counted as Flask would have counted it. (Cheap refusals alone do not
save the answering thread from clients that ask again at once: they just ask faster. The
worker also holds each refusal back a moment, HOLD_SECONDS in web/worker.py.)
"""

from __future__ import annotations

from flask import Flask
from gunicorn import SERVER
from gunicorn.util import http_date

from web.errors import error_response
from web.gate import RETRY_AFTER, QuestionGate

# The requests shed in the main loop: the path, as it arrives, and the URL rule Flask would
# match for it (the metrics' route label). POST /api/saved also enters the gate but is never
# refused for it (it saves without a baseline), so it is not here.
QUESTION_ROUTES = {b"/api/ask": "/api/ask"}
QUESTION_METHOD = b"POST"


class EarlyRefusals:
    """Decide, without waiting, whether a question is refused, and give its reply's bytes."""

    def __init__(self, app: Flask, gate: QuestionGate) -> None:
        self.app, self.gate = app, gate
        # Refusal message -> headers and body. A handful at most: the gate's messages depend
        # only on its settings.
        self._built: dict[str, bytes] = {}

    @classmethod
    def of(cls, app: object) -> EarlyRefusals | None:
        """Return the refusals of an app with a question gate; None for any other app."""
        gate = getattr(app, "extensions", {}).get("newsqa.gate")
        return cls(app, gate) if isinstance(app, Flask) and gate is not None else None

    def route(self, method: bytes, path: bytes) -> str | None:
        """Return the URL rule of a question (what the gate is asked about), else None."""
        return QUESTION_ROUTES.get(path) if method == QUESTION_METHOD else None

    def refusal(self, coming: int) -> str | None:
        """Return why the gate would refuse a question now, None if it has a place."""
        return self.gate.refusal(coming)

    def reply(self, message: str, version: str, keep_alive: bool) -> bytes:
        """Return the whole 503 response for a refusal, as Flask under gunicorn sends it."""
        built = self._built.get(message)
        if built is None:
            built = self._built[message] = self._build(message)
        connection = "keep-alive" if keep_alive else "close"
        # Server, Date and Connection are gunicorn's own headers, first as gunicorn sends them.
        head = (
            f"HTTP/{version} 503 Service Unavailable\r\nServer: {SERVER}\r\n"
            f"Date: {http_date()}\r\nConnection: {connection}\r\n"
        )
        return head.encode("latin-1") + built

    def _build(self, message: str) -> bytes:
        with self.app.app_context():  # jsonify follows the app's JSON settings
            response = error_response(503, "overloaded", message, {"Retry-After": str(RETRY_AFTER)})
        # As on every response of the app (security_headers in web/__init__.py).
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        body = response.get_data()
        response.headers["Content-Length"] = str(len(body))
        lines = "".join(f"{name}: {value}\r\n" for name, value in response.headers.items())
        return lines.encode("latin-1") + b"\r\n" + body
