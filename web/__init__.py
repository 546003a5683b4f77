"""The Flask application: the JSON API and the chat page over the qa package."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

from index.embedding import Embedder, load_embedder, model_name
from index.store import Index
from qa.answer import Answerer
from web.gate import QuestionGate
from web.live_index import FixedIndex, LiveIndex
from web.rebuilder import Rebuilder

# The chat page needs nothing from elsewhere: no inline script, no CDN, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def create_app(
    config: dict | None = None,
    *,
    index: Index | Path | str | None = None,
    answerer: Answerer | None = None,
    embedder: Embedder | None = None,
) -> Flask:
    """Create the app.

    By default it serves the index folder named by config INDEX_DIR (env NEWSQA_INDEX) and
    follows it to each new generation. `index` may be that folder or an Index already loaded;
    `embedder` replaces the packaged model (tests pass a fake); `answerer` pins one answerer
    (anything with `ask()` and `.index`) and disables the following.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("NEWSQA_INDEX", "var/index"),
        SEEDS_DIR=os.environ.get("NEWSQA_SEEDS", "seeds"),
        ADMIN_TOKEN=os.environ.get("NEWSQA_ADMIN_TOKEN") or None,
        RELOAD_INTERVAL=1.0,  # seconds between looks at the index's `current` pointer
        # Rescore passages with the cross-encoder (`qa serve --no-rerank`: faster, less precise).
        RERANK=os.environ.get("NEWSQA_RERANK", "1") != "0",
        MAX_CONTENT_LENGTH=64 * 1024,
        # Questions in flight or waiting per worker (`qa serve --max-queue`); past it, or after
        # QUEUE_WAIT seconds in line, a question gets a fast 503 with Retry-After.
        MAX_QUEUE=int(os.environ.get("NEWSQA_MAX_QUEUE") or 4),
        QUEUE_WAIT=5.0,
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # keep the documented field order: question, answer, citations
    # "//" in a path would be answered with a 308 redirect (an HTML page) before any handler
    # runs; unmerged, /api/articles//etc/passwd is simply not an article: a JSON 404.
    app.url_map.merge_slashes = False

    if answerer is not None:
        source: FixedIndex | LiveIndex = FixedIndex(answerer)
    else:
        if isinstance(index, Index):
            app.config["INDEX_DIR"] = str(index.path)
        elif index is not None:
            app.config["INDEX_DIR"] = str(index)
        source = LiveIndex(
            Path(app.config["INDEX_DIR"]),
            (lambda: embedder) if embedder is not None else load_embedder,
            model=embedder.name if embedder is not None else model_name(),  # NEWSQA_EMBEDDER
            interval=float(app.config["RELOAD_INTERVAL"]),
            options={"rerank": bool(app.config["RERANK"])},
        )
        if isinstance(index, Index):
            source.adopt(index)
    app.extensions["newsqa.index"] = source
    app.extensions["newsqa.gate"] = QuestionGate(
        int(app.config["MAX_QUEUE"]), float(app.config["QUEUE_WAIT"])
    )
    app.extensions["newsqa.rebuilder"] = Rebuilder(
        Path(app.config["SEEDS_DIR"]),
        source.index_dir,
        lambda: source.embedder,
        on_done=source.refresh,
    )

    from web import admin, api, chat, errors

    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health)
    app.register_blueprint(admin.bp)
    app.register_blueprint(chat.bp)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
