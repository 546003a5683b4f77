"""The chat page: one HTML page; the conversation runs in web/static/chat.js over /api/ask."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("chat", __name__)


@bp.get("/")
def page() -> str:
    """Serve the chat page; where saved questions are open to all, with "Follow" on answers."""
    return render_template("chat.html", saved_open=bool(current_app.config.get("SAVED_OPEN")))
