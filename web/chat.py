"""The chat page: one HTML page; the conversation runs in web/static/chat.js over /api/ask."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("chat", __name__)


@bp.get("/")
def page() -> str:
    """Serve the chat page."""
    return render_template("chat.html")
