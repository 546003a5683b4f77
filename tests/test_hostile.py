"""Hostile input (issue 15): every request an attacker tried gets a JSON 4xx or an answer.

The same inputs go through the Flask app with the real cross-encoder (the reranker's token
budget is the point of several), and through a real socket where the transport matters
(chunked bodies). tests/test_serve_limits.py sends them to `qa serve` (gunicorn) too.
"""

from __future__ import annotations

import http.client
import json
import shutil
from urllib.parse import urlsplit

import pytest
from conftest import SEEDS, TINY, FakeEmbedder
from jsonschema import Draft202012Validator
from test_api import SPEC, conform

from index.build import build
from qa.pipeline import Answerer
from web import create_app

NESTED = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECTS = b'{"a":' * 5000 + b"1" + b"}" * 5000
# Distinct words: a follow-up carries every content word of the turn that set the topic.
WORDS_60KB = " ".join(f"term{i}" for i in range(6000))
TURNS_OF_400_WORDS = [
    {"question": " ".join(f"w{t}x{i}" for i in range(400)), "answer": "x"} for t in range(20)
]


def _ask(question: str, **extra: object) -> bytes:
    return json.dumps({"question": question, **extra}).encode()


# (name, body of POST /api/ask, the status it must get, the error code if refused)
HOSTILE_ASKS = [
    ("brackets x10,000", NESTED, 400, "bad_json"),
    ("brackets in k", b'{"question": "Bird", "k": ' + NESTED + b"}", 400, "bad_json"),
    (
        "5,000 objects in filters",
        b'{"question": "x", "filters": ' + DEEP_OBJECTS + b"}",
        400,
        "bad_json",
    ),
    ("unclosed brackets", b"[" * 10_000, 400, "bad_json"),
    ("lone surrogate", b'{"question": "\\ud800"}', 400, "bad_question"),
    (
        "surrogate in history",
        _ask("and when?", history=[{"question": "\ud800"}]),
        400,
        "bad_history",
    ),
    (
        "surrogate in author",
        b'{"question": "Bird", "filters": {"author": "\\udfff"}}',
        400,
        "bad_filters",
    ),
    ("ISO week date", _ask("Bird", filters={"after": "2012W01T12"}), 400, "bad_filters"),
    ("ISO week day", _ask("Bird", filters={"before": "2012-W01-1"}), 400, "bad_filters"),
    ("basic date form", _ask("Bird", filters={"after": "20120101"}), 400, "bad_filters"),
    ("day 31 of April", _ask("Bird", filters={"after": "2021-04-31"}), 400, "bad_filters"),
    ("hour 25", _ask("Bird", filters={"after": "2021-04-01T25:00"}), 400, "bad_filters"),
    ("chinese x30 (300 chars)", _ask("阿里巴巴投资了多少钱" * 30), 200, None),
    ("248 number tokens", _ask("how much did Alibaba invest " + "1 " * 248), 200, None),
    ("1,000 characters", _ask("Alibaba invest " * 66 + "x" * 10), 200, None),
    ("1,000 one-char words", _ask("a " * 499 + "b"), 200, None),
    (
        "history turn of 60 KB",
        _ask("and when?", history=[{"question": WORDS_60KB}]),
        200,
        None,
    ),
    (
        "20 turns of 400 words",
        _ask("and when?", history=TURNS_OF_400_WORDS),
        200,
        None,
    ),
    ("author null", _ask("Bird European expansion", filters={"author": None}), 200, None),
    ("after null and empty", _ask("Bird", filters={"after": None, "before": ""}), 200, None),
]


@pytest.fixture
def call(app, client):
    """Send a request and check its response against the spec."""

    def send(method: str, path: str, **kwargs):
        response = client.open(path, method=method, **kwargs)
        return response, conform(app, response, method, path)

    return send


@pytest.fixture(scope="module")
def reranking_app(tmp_path_factory, reranker):
    """The API over the tiny seeds, answering with the real cross-encoder."""
    seeds = tmp_path_factory.mktemp("seeds")
    for name in TINY:
        shutil.copy(SEEDS / name, seeds / name)
    index_dir = tmp_path_factory.mktemp("ix")
    embedder = FakeEmbedder()
    build(seeds, index_dir, embedder)
    answerer = Answerer.open(index_dir, embedder, reranker=reranker, rerank=True)
    return create_app({"ADMIN_TOKEN": "secret"}, answerer=answerer)


@pytest.mark.model
@pytest.mark.parametrize(
    ("body", "status", "code"), [h[1:] for h in HOSTILE_ASKS], ids=[h[0] for h in HOSTILE_ASKS]
)
def test_hostile_questions_get_json_4xx_or_an_answer(reranking_app, body, status, code):
    response = reranking_app.test_client().post(
        "/api/ask", data=body, content_type="application/json"
    )
    answer = conform(reranking_app, response, "POST", "/api/ask")
    assert response.status_code == status, answer
    if code:
        assert answer["error"]["code"] == code
    else:
        assert answer["citations"], answer


@pytest.mark.parametrize(
    "path", ["/api/articles//etc/passwd", "/api/articles/%2fetc%2fpasswd", "/api/articles/%2F"]
)
def test_paths_with_empty_segments_are_json_404s_not_redirects(call, path):
    response, body = call("GET", path)
    assert response.status_code == 404 and body["error"]["code"] == "not_found"
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "body",
    [NESTED, b'{"full": ' + DEEP_OBJECTS + b"}", b'{"full": true, "x": ' + NESTED + b"}"],
    ids=["brackets", "objects", "brackets-in-field"],
)
def test_deep_rebuild_bodies_are_400(call, body, web_index):
    response, error = call(
        "POST",
        "/api/rebuild",
        data=body,
        content_type="application/json",
        headers={"Authorization": "Bearer secret"},
    )
    assert response.status_code == 400 and error["error"]["code"] == "bad_json"
    assert not (web_index / "rebuild.json").exists()


def _chunked_post(base: str, path: str, parts: list[bytes]) -> tuple[int, dict]:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            iter(parts),
            {"Content-Type": "application/json", "Authorization": "Bearer secret"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_chunked_body_past_the_limit_is_413_not_cut(app, serve):
    base = serve(app)
    padded = [b'{"question": "Bird European expansion"}', b" " * 35_000, b" " * 35_000]
    status, body = _chunked_post(base, "/api/ask", padded)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    status, body = _chunked_post(base, "/api/ask", padded[:2])  # 35 KB: read whole, answered
    assert status == 200 and body["citations"]
    exact = [padded[0], b" " * (64 * 1024 - len(padded[0]))]
    assert _chunked_post(base, "/api/ask", exact)[0] == 200  # exactly the limit is allowed


@pytest.mark.parametrize(
    ("filters", "accepted"),
    [
        ({"author": None}, True),
        ({"author": "Natasha Lomas"}, True),
        ({"after": "2012-01-01"}, True),
        ({"after": "2012-01-01T12:00"}, True),
        ({"after": "2012-01-01T12:00:00Z"}, True),
        ({"before": "2012-01-01T12:00:00.5+02:00"}, True),
        ({"after": ""}, True),
        ({"after": None}, True),
        ({"after": "yesterday"}, False),
        ({"after": "2012W01T12"}, False),
        ({"after": "2012-W01"}, False),
        ({"after": "20120101"}, False),
        ({"after": 2012}, False),
        ({"author": 7}, False),
    ],
)
def test_the_spec_and_the_server_agree_on_filters(call, filters, accepted):
    _agree(call, {"question": "Bird European expansion", "filters": filters}, accepted)


@pytest.mark.parametrize(
    ("fields", "accepted"),
    [
        ({"k": None}, True),
        ({"k": 3}, True),
        ({"k": "3"}, False),
        ({"history": None}, True),
        ({"history": [{"question": "who?", "answer": None}]}, True),
        ({"history": [{"question": "who?", "answer": "Ann."}]}, True),
        ({"history": [{"question": "who?", "answer": 5}]}, False),
        ({"history": [{"answer": "Ann."}]}, False),
        ({"filters": None}, True),
        ({"filters": []}, False),
        ({"question": ""}, False),
        ({"question": "x" * 1001}, False),
    ],
)
def test_the_spec_and_the_server_agree_on_the_other_fields(call, fields, accepted):
    _agree(call, {"question": "Bird European expansion", **fields}, accepted)


def _agree(call, request: dict, accepted: bool) -> None:
    schema = {"$ref": "#/components/schemas/AskRequest", "components": SPEC["components"]}
    valid = Draft202012Validator(schema).is_valid(request)
    response, _ = call("POST", "/api/ask", json=request)
    assert valid == accepted
    assert (response.status_code == 200) == accepted
