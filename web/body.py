"""Reading a request's JSON body: bounded in size and in nesting before it is parsed."""

from __future__ import annotations

import json
import re

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from web.errors import ApiError

# Deeper than any request this API takes ({"history": [{"question": ...}]} is 3 levels).
# The stdlib parser recurses per level: 10,000 '[' raise RecursionError, a 500, not a 400.
MAX_DEPTH = 32
# A string (to its closing quote, or to the end if it has none: no retrying, so linear) or a
# bracket. Brackets inside strings don't nest.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.S)


def nesting_depth(text: str) -> int:
    """Return how deeply the arrays and objects of a JSON text nest (linear, no recursion)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _read() -> bytes:
    """Return the raw body; raise 413 past MAX_CONTENT_LENGTH however it is sent."""
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=True)  # werkzeug refuses a long Content-Length: 413
    # A chunked body has no length up front, and werkzeug cuts it at the limit without a word
    # (70 KB of padding after valid JSON parsed as 200): read one byte past the limit to tell.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    stream = request.environ["wsgi.input"]
    parts, size = [], 0
    while size <= limit:
        part = stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(parts)


def json_body(*, optional: bool = False) -> object:
    """Return the parsed JSON body; raise ApiError for a wrong type, broken or deep JSON."""
    try:
        raw = _read()
    except OSError as err:  # the client stopped sending (or the server's read deadline hit)
        raise ApiError(400, "bad_request", f"the body did not arrive in full: {err}") from None
    if optional and not raw.strip():
        return None
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with the header Content-Type: application/json",
        )
    try:
        text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {err}") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise ApiError(400, "bad_json", f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError as err:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {err}") from None
