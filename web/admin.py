"""Admin endpoints: start a rebuild of the index and follow its progress (bearer token)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from index.errors import BuildLocked
from web.body import json_body
from web.errors import ApiError

bp = Blueprint("admin", __name__, url_prefix="/api")


@bp.before_request
def authorize() -> None:
    """Refuse unless NEWSQA_ADMIN_TOKEN is set and the request carries it."""
    token = current_app.config.get("ADMIN_TOKEN")
    if not token:
        raise ApiError(
            403, "disabled", "rebuilding over HTTP is off: set NEWSQA_ADMIN_TOKEN on the server"
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest takes time independent of where the strings differ: no timing oracle.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), str(token).encode()
    ):
        raise ApiError(
            401,
            "unauthorized",
            "send the admin token as: Authorization: Bearer <token>",
            {"WWW-Authenticate": 'Bearer realm="newsqa"'},
        )


@bp.post("/rebuild")
def start_rebuild() -> tuple[Response, int, dict[str, str]]:
    """Start rebuilding the index from the seeds folder in the background."""
    body = json_body(optional=True) or {}
    if not isinstance(body, dict) or set(body) - {"full"}:
        raise ApiError(400, "bad_request", 'send nothing or {"full": true|false}')
    full = body.get("full", False)
    if not isinstance(full, bool):
        raise ApiError(400, "bad_request", "full must be true or false")
    try:
        status = current_app.extensions["newsqa.rebuilder"].start(full=full)
    except BuildLocked as err:
        raise ApiError(409, "rebuild_running", str(err)) from None
    return jsonify(status), 202, {"Location": "/api/rebuild"}


@bp.get("/rebuild")
def rebuild_status() -> Response:
    """Show the progress of the running rebuild, or the report of the last one."""
    return jsonify(current_app.extensions["newsqa.rebuilder"].status())
