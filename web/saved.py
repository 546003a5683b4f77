"""Saved questions over HTTP: save, list, delete; their changes as JSON and as Atom feeds.

Saving, listing, deleting and the feed of every question need the admin token (as POST
/api/rebuild does) unless SAVED_OPEN (NEWSQA_SAVED_OPEN=1); one question's changes need
only its id, which is unguessable. After each new generation a daemon thread per worker
asks every saved question again (`Follower`); the store records each change once.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from index.errors import IndexError_
from qa.answer import Answer
from qa.errors import BadQuestion, ModelMissing, check_question
from qa.pipeline import Answerer
from qa.query import Filters
from qa.saved import (
    Saved,
    SavedLimit,
    SavedNotFound,
    SavedStore,
    SavedUnavailable,
    baseline,
    check_all,
)
from qa.saved.atom import FEED_ENTRIES, MEDIA_TYPE, feed, urn
from qa.saved.store import Change, now_iso
from web.admin import authorize
from web.api import snapshot
from web.body import json_body
from web.errors import ApiError, error_response
from web.gate import RETRY_AFTER, Overloaded, QuestionGate
from web.live_index import FixedIndex, IndexUnavailable, LiveIndex

log = logging.getLogger(__name__)
bp = Blueprint("saved", __name__, url_prefix="/api")
SAVE_FIELDS = {"question", "filters"}


def install(app: Flask, source: FixedIndex | LiveIndex) -> None:
    """Open the store beside the generations, register the routes, follow new generations."""
    store = SavedStore.in_index(source.index_dir)
    follower = Follower(store, app.extensions["newsqa.gate"])
    app.extensions["newsqa.saved"] = store
    app.extensions["newsqa.saved_follower"] = follower
    if isinstance(source, LiveIndex):
        source.listeners.append(follower)
    app.register_blueprint(bp)


class _Gated:
    """An answerer whose questions wait their turn at the worker's gate, like requests."""

    def __init__(self, answerer: Answerer, gate: QuestionGate) -> None:
        self.answerer, self.gate, self.index = answerer, gate, answerer.index

    def ask(self, question: str, k: int = 5, *, filters: Filters | None = None) -> Answer:
        """Answer when the gate lets it; a busy worker is waited for, never refused."""
        while True:
            try:
                with self.gate.admit():
                    return self.answerer.ask(question, k, filters=filters)
            except Overloaded:
                time.sleep(RETRY_AFTER)


class Follower:
    """Ask the saved questions again after each new generation, in one thread per process.

    A generation that arrives while a check runs waits for it; one that is overtaken by a
    newer one before its turn is never checked (only the live one matters).
    """

    def __init__(self, store: SavedStore, gate: QuestionGate) -> None:
        self.store, self.gate = store, gate
        self._lock = threading.Lock()
        self._pending: Answerer | None = None
        self._idle = threading.Event()
        self._idle.set()

    def __call__(self, answerer: Answerer) -> None:
        """Check the saved questions against this answerer's generation, off this thread."""
        with self._lock:
            self._pending, start = answerer, self._idle.is_set()
            self._idle.clear()
        if start:
            threading.Thread(target=self._run, name="newsqa-saved", daemon=True).start()

    def wait(self, timeout: float) -> bool:
        """Wait until no check runs; return False if one still does after `timeout` seconds."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                answerer, self._pending = self._pending, None
                if answerer is None:
                    self._idle.set()
                    return
            try:
                check_all(self.store, _Gated(answerer, self.gate), answerer.index.generation)
            except Exception:  # the thread's last resort: log it and keep following
                log.exception("checking the saved questions failed")


def _store() -> SavedStore:
    return current_app.extensions["newsqa.saved"]


def _admin() -> None:
    """Refuse unless the request carries the admin token (the rule of POST /api/rebuild)."""
    try:
        authorize()
    except ApiError as err:
        if err.status != 403:
            raise
        raise ApiError(
            403,
            "disabled",
            "saved questions over HTTP are off: set NEWSQA_ADMIN_TOKEN on the server "
            "(or NEWSQA_SAVED_OPEN=1 to let anyone save questions)",
        ) from None


def _open_or_admin() -> None:
    if not current_app.config.get("SAVED_OPEN"):
        _admin()


def _links(saved_id: str) -> dict:
    return {
        "feed": f"/api/saved/{saved_id}/changes.atom",
        "changes": f"/api/saved/{saved_id}/changes",
    }


@bp.errorhandler(SavedNotFound)
def _not_found(err: SavedNotFound) -> Response:
    return error_response(404, "not_found", str(err))


@bp.errorhandler(SavedUnavailable)
def _unavailable(err: SavedUnavailable) -> Response:
    current_app.logger.error("%s", err)
    return error_response(503, "saved_unavailable", str(err), {"Retry-After": "5"})


def _parse_save() -> tuple[str, dict | None]:
    """Return the question and filters of a save request; raise ApiError naming the fault."""
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", 'send a JSON object like {"question": "..."}')
    unknown = sorted(set(body) - SAVE_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(SAVE_FIELDS))
        raise ApiError(400, "bad_request", f"unknown field(s): {', '.join(unknown)}; {allowed}")
    if "question" not in body:
        raise ApiError(400, "bad_question", 'the body needs a "question" string')
    for code, check, value in (
        ("bad_question", check_question, body["question"]),
        ("bad_filters", Filters.from_json, body.get("filters")),
    ):
        try:
            check(value)
        except BadQuestion as err:
            raise ApiError(400, code, str(err)) from None
    return body["question"], body.get("filters")


def _baseline(saved: Saved) -> dict | None:
    """Keep the answer as it stands now; None: no index or no turn, kept at the next check."""
    try:
        with current_app.extensions["newsqa.gate"].admit():
            snap = snapshot()
            kept = baseline(_store(), saved, snap.answerer, snap.index.generation)
    except (IndexUnavailable, Overloaded, IndexError_, ModelMissing) as err:
        current_app.logger.warning("no baseline for saved question %s yet: %s", saved.id, err)
        return None
    return kept.to_json() if kept else None


@bp.post("/saved")
def save() -> tuple[Response, int, dict[str, str]]:
    """Save a question; its answer is asked again after each new index generation."""
    _open_or_admin()
    question, filters = _parse_save()
    try:
        saved = _store().add(question, filters)
    except SavedLimit as err:
        raise ApiError(409, "saved_limit", str(err)) from None
    body = {**saved.to_json(), **_links(saved.id), "answer": _baseline(saved)}
    return jsonify(body), 201, {"Location": _links(saved.id)["changes"]}


@bp.get("/saved")
def list_saved() -> Response:
    """List the saved questions with their kept answer and latest change."""
    _open_or_admin()
    store = _store()
    kept, latest = store.kept_all(), store.latest()
    items = [
        {
            **saved.to_json(),
            **_links(saved.id),
            "answer": kept[saved.id].to_json() if saved.id in kept else None,
            "latest_change": latest[saved.id].summary() if saved.id in latest else None,
        }
        for saved in store.all()
    ]
    return jsonify({"limit": store.limit, "saved": items})


@bp.delete("/saved/<saved_id>")
def remove(saved_id: str) -> Response:
    """Delete a saved question with its changes."""
    _open_or_admin()
    _store().remove(saved_id)
    return jsonify({"deleted": saved_id})


@bp.get("/saved/<saved_id>/changes")
def changes(saved_id: str) -> Response:
    """Return a saved question's changes, newest first (the id is the secret: no token)."""
    store = _store()
    saved = store.get(saved_id)
    kept = store.kept(saved_id)
    body = {
        **saved.to_json(),
        **_links(saved_id),
        "answer": kept.to_json() if kept else None,
        "changes": [c.to_json() for c in store.changes(saved_id)],
    }
    return jsonify(body)


def _atom(title: str, name: str, updated: str, found: list[Change]) -> Response:
    root = request.host_url.rstrip("/")
    xml = feed(
        title=title,
        feed_id=urn(name),
        self_url=request.base_url,
        updated=updated,
        changes=found,
        link_of=lambda change: f"{root}/api/saved/{change.saved_id}/changes",
    )
    return current_app.response_class(xml, mimetype=MEDIA_TYPE)


@bp.get("/saved/<saved_id>/changes.atom")
def changes_feed(saved_id: str) -> Response:
    """Return a saved question's changes as an Atom feed (no token: the id is the secret)."""
    saved = _store().get(saved_id)
    found = _store().changes(saved_id, FEED_ENTRIES)
    updated = found[0].time if found else saved.created  # newest first
    return _atom(f"newsqa: {saved.question}", f"saved:{saved_id}", updated, found)


@bp.get("/saved/changes.atom")
def all_changes_feed() -> Response:
    """Return every saved question's changes as one Atom feed."""
    _open_or_admin()
    found = _store().changes(None, FEED_ENTRIES)
    updated = found[0].time if found else now_iso()
    return _atom("newsqa: saved questions", "saved", updated, found)
