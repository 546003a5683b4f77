"""The Flask application: the JSON API and the chat page over the qa package."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response

from index.embedder.runtime import Embedder, configured_embedder, model_name
from index.settings import Settings
from index.store import Index
from index.stores import replica_generations, store_backend
from qa.pipeline import Answerer, answerer_options
from web.cores import CoreShare
from web.gate import QuestionGate
from web.live_index import FixedIndex, LiveIndex
from web.rebuilder import Rebuilder

# The chat page needs nothing from elsewhere: no inline script, no CDN, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _index_source(
    app: Flask,
    settings: Settings,
    index: Index | Path | str | None,
    answerer: Answerer | None,
    embedder: Embedder | None,
) -> FixedIndex | LiveIndex:
    """Return what the app answers from: a pinned answerer, or the index folder it follows."""
    if answerer is not None:
        return FixedIndex(answerer)
    if isinstance(index, Index):
        app.config["INDEX_DIR"] = str(index.path)
    elif index is not None:
        app.config["INDEX_DIR"] = str(index)

    source = LiveIndex(
        Path(app.config["INDEX_DIR"]),
        (lambda: embedder) if embedder is not None else lambda: configured_embedder(settings),
        model=embedder.name if embedder is not None else model_name(settings.embedder),
        interval=float(app.config["RELOAD_INTERVAL"]),
        options=answerer_options(settings)
        | {"rerank": bool(app.config["RERANK"]), "read": bool(app.config["READ"])},
        backend=store_backend(settings),
        generations=replica_generations(settings, Path(app.config["INDEX_DIR"])),
        free=app.extensions["newsqa.cores"].free,
    )
    if isinstance(index, Index):
        source.adopt(index)
    return source


def _configure(app: Flask, settings: Settings, config: dict | None) -> None:
    """Fill app.config from the settings; `config` (tests, embedders) overrides them."""
    app.config.from_mapping(
        INDEX_DIR=str(settings.index_dir),
        SEEDS_DIR=str(settings.seeds_dir),
        ADMIN_TOKEN=settings.admin_token,
        RELOAD_INTERVAL=1.0,  # seconds between looks at the index's `current` pointer
        RERANK=settings.rerank,  # `qa serve --no-rerank`: faster, less precise
        READ=settings.read,  # the span reader marks the exact answer words
        MAX_CONTENT_LENGTH=64 * 1024,
        # Questions in flight or waiting per worker (`qa serve --max-queue`); past it, or after
        # QUEUE_WAIT seconds in line, a question gets a fast 503 with Retry-After.
        MAX_QUEUE=settings.max_queue,
        QUEUE_WAIT=5.0,
        SAVED_OPEN=settings.saved_open,  # anyone may save questions, not only the admin
    )
    if config:
        app.config.update(config)


def create_app(
    config: dict | None = None,
    *,
    index: Index | Path | str | None = None,
    answerer: Answerer | None = None,
    embedder: Embedder | None = None,
    settings: Settings | None = None,
) -> Flask:
    """Create the app.

    By default it serves the index folder named by config INDEX_DIR (settings.index_dir, env
    NEWSQA_INDEX) and follows it to each new generation. `index` may be that folder or an
    Index already loaded; `embedder` replaces the packaged model (tests pass a fake);
    `answerer` pins one answerer (anything with `ask()` and `.index`) and disables following.
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    _configure(app, settings, config)
    app.json.sort_keys = False  # keep the documented field order: question, answer, citations
    # "//" in a path would be answered with a 308 redirect (an HTML page) before any handler
    # runs; unmerged, /api/articles//etc/passwd is simply not an article: a JSON 404.
    app.url_map.merge_slashes = False
    app.extensions["newsqa.cores"] = CoreShare()  # before the fork: every worker counts in it
    source = _index_source(app, settings, index, answerer, embedder)
    app.extensions["newsqa.index"] = source
    app.extensions["newsqa.gate"] = QuestionGate(
        int(app.config["MAX_QUEUE"]), float(app.config["QUEUE_WAIT"])
    )
    app.extensions["newsqa.rebuilder"] = Rebuilder(
        Path(app.config["SEEDS_DIR"]),
        source.index_dir,
        lambda: source.embedder,
        on_done=source.refresh,
        backend=store_backend(settings.with_(index_dir=source.index_dir)),
    )

    from web import admin, api, chat, errors, metrics, saved

    errors.register(app)
    metrics.install(app, source, app.extensions["newsqa.rebuilder"], settings.metrics_dir)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health)
    app.register_blueprint(admin.bp)
    app.register_blueprint(chat.bp)
    saved.install(app, source)  # saved questions: the store beside the generations

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
