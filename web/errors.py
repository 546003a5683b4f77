"""JSON errors for the API: every failure under /api/ and /healthz is {"error": {code, message}}."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from index.errors import StoreUnavailable
from qa.errors import BadQuestion
from web.gate import RETRY_AFTER, Overloaded
from web.live_index import IndexUnavailable

# Machine-readable codes for the HTTP errors werkzeug raises before our code runs.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API reports to its caller as it is."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Return the JSON error body with its status."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path in ("/api", "/healthz")


def register(app: Flask) -> None:
    """Install the handlers that turn every API failure into a JSON error."""

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return error_response(err.status, err.code, err.message, err.headers)

    @app.errorhandler(BadQuestion)
    def bad_question(err: BadQuestion) -> Response:
        return error_response(400, "bad_question", str(err))

    @app.errorhandler(Overloaded)
    def overloaded(err: Overloaded) -> Response:
        return error_response(503, "overloaded", str(err), {"Retry-After": str(RETRY_AFTER)})

    @app.errorhandler(IndexUnavailable)
    def unavailable(err: IndexUnavailable) -> Response:
        return error_response(503, "index_unavailable", str(err), {"Retry-After": "5"})

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(err: StoreUnavailable) -> Response:
        app.logger.error("%s", err)
        return error_response(503, "store_unavailable", str(err), {"Retry-After": "5"})

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response | HTTPException:
        if not _is_api():
            return err  # the chat page keeps werkzeug's plain pages
        headers = {}
        if err.code == 405 and err.valid_methods:
            headers["Allow"] = ", ".join(err.valid_methods)
        message = {
            404: f"no such endpoint or item: {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: f"the body is over the {app.config['MAX_CONTENT_LENGTH'] // 1024} KiB limit",
        }.get(err.code or 500, err.description or err.name)
        status = err.code or 500
        return error_response(status, _HTTP_CODES.get(status, "error"), message, headers)

    @app.errorhandler(Exception)
    def crash(err: Exception) -> Response | tuple[str, int]:
        # Log the traceback for the operator; the caller gets one line and no internals.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return error_response(500, "internal", "the server failed to answer; see its log")
        return "Internal Server Error", 500
