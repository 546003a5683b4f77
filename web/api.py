"""The JSON API: POST /api/ask."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from qa.errors import BadQuestion

bp = Blueprint("api", __name__, url_prefix="/api")


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


@bp.post("/ask")
def ask():
    """Answer the question in the JSON body."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "bad_request", "send a JSON object with a 'question'")
    try:
        answer = current_app.extensions["answerer"].ask(body.get("question"), k=body.get("k", 5))
    except BadQuestion as err:
        return _error(400, "bad_question", str(err))
    return jsonify(answer.to_json())
