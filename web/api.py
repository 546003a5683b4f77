"""The JSON API: ask a question, list and read articles, the OpenAPI spec, the health check."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, g, jsonify, request

from index.articles import Article
from qa.errors import BadQuestion, check_question
from qa.query import Filters, Turn, check_k, parse_now
from web.body import json_body
from web.errors import ApiError
from web.live_index import IndexUnavailable, Snapshot

bp = Blueprint("api", __name__, url_prefix="/api")
health = Blueprint("health", __name__)

ASK_FIELDS = {"question", "k", "history", "filters", "now"}
DEFAULT_K = 5
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SPEC = Path(__file__).parent / "openapi.json"


def snapshot() -> Snapshot:
    """Return the generation this request answers from, the same for the whole request."""
    if "snapshot" not in g:
        g.snapshot = current_app.extensions["newsqa.index"].snapshot()
    return g.snapshot


def _field(code: str, parse, value):
    """Parse one field of the body, naming the field in the error."""
    try:
        return parse(value)
    except BadQuestion as err:
        raise ApiError(400, code, str(err)) from None


def _k(value: object) -> int:
    if value is None:
        return DEFAULT_K
    return check_k(value)


@bp.post("/ask")
def ask() -> Response:
    """Answer the question in the JSON body with cited snippets."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", 'send a JSON object like {"question": "..."}')
    unknown = sorted(set(body) - ASK_FIELDS)
    if unknown:
        raise ApiError(
            400,
            "bad_request",
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(ASK_FIELDS))}",
        )
    if "question" not in body:
        raise ApiError(400, "bad_question", 'the body needs a "question" string')
    question = _field("bad_question", check_question, body["question"])
    k = _field("bad_k", _k, body.get("k"))
    history = _field("bad_history", Turn.list_from_json, body.get("history"))
    filters = _field("bad_filters", Filters.from_json, body.get("filters"))
    now = _field("bad_now", parse_now, body.get("now"))
    gate, cores = current_app.extensions["newsqa.gate"], current_app.extensions["newsqa.cores"]
    with gate.admit(), cores.answer():  # or 503 at once: too many asked
        answer = snapshot().answerer.ask(question, k, history=history, filters=filters, now=now)
    return jsonify(answer.to_json())


def _summary(article: Article, chunks: int) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "author": article.author,
        "url": article.url,
        "chunks": chunks,
    }


def _int_arg(name: str, default: int, low: int, high: int | None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ApiError(400, "bad_request", f"{name} must be an integer {bound}, not {raw!r}")
    return value


@bp.get("/articles")
def articles() -> Response:
    """List the indexed articles, newest first, one page at a time."""
    offset = _int_arg("offset", 0, 0, None)
    limit = _int_arg("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    snap = snapshot()
    page = snap.newest_first[offset : offset + limit]
    return jsonify(
        {
            "total": len(snap.newest_first),
            "offset": offset,
            "limit": limit,
            "generation": snap.index.generation,
            "articles": [_summary(snap.index.corpus.article(a), snap.chunk_count(a)) for a in page],
        }
    )


# Ids are paths under the seeds folder, so they may hold slashes: use the path converter.
@bp.get("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    """Return one article with its cleaned text (citation start/end index into it)."""
    snap = snapshot()
    found = snap.index.corpus.article(article_id)
    if found is None:
        raise ApiError(404, "not_found", f"no article with id {article_id!r}")
    out = _summary(found, snap.chunk_count(article_id))
    out["generation"] = snap.index.generation
    out["text"] = found.text
    out["also_published_at"] = list(found.also_published_at)
    return jsonify(out)


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI 3 description of this API."""
    return current_app.response_class(SPEC.read_bytes(), mimetype="application/json")


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether an index is loaded, what it holds and which model reads it."""
    source = current_app.extensions["newsqa.index"]
    try:
        snap = source.snapshot()
    except IndexUnavailable as err:
        body = {
            "status": "unavailable",
            "index_loaded": False,
            "model": source.model,
            "error": {"code": "index_unavailable", "message": str(err)},
        }
        return jsonify(body), 503
    meta = snap.index.meta
    body = {
        "status": "ok",
        "index_loaded": True,
        "generation": snap.index.generation,
        "built": meta.get("built"),
        "articles": snap.index.corpus.article_count,
        "chunks": len(snap.index.corpus),
        "model": meta.get("model", source.model),
    }
    return jsonify(body), 200
