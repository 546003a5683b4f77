"""The Flask application: JSON API and chat page over the qa package."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def create_app(config: dict | None = None, *, answerer=None) -> Flask:
    """Create the app; tests pass an answerer, production loads the index named in config."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("NEWSQA_INDEX", "var/index"),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if config:
        app.config.update(config)
    if answerer is None:
        from index.embedding import MiniLMEmbedder
        from qa.answer import Answerer

        answerer = Answerer.open(Path(app.config["INDEX_DIR"]), MiniLMEmbedder())
    app.extensions["answerer"] = answerer

    from web import api

    app.register_blueprint(api.bp)
    return app
