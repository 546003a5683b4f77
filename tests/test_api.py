"""The JSON API with Flask's test client: every route, every error status, the OpenAPI spec."""

from __future__ import annotations

import json
import re
import shutil
import threading

import pytest
from jsonschema import Draft202012Validator

from index.build import BuildLock, build
from tests.conftest import SEEDS
from web import create_app

BIRD = "Birdtospend150milliononEuropeanexpansionplan"
SPEC = json.loads((SEEDS.parent / "web" / "openapi.json").read_text())


def _template(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def conform(app, response, method: str, path: str):
    """Assert the response matches what the OpenAPI spec documents for it; return its JSON."""
    assert response.mimetype == "application/json", response.data[:200]
    body = response.get_json()
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path.split("?")[0], method=method, return_rule=True)
        operation = SPEC["paths"][_template(rule.rule)][method.lower()]
        documented = operation["responses"]
        assert str(response.status_code) in documented, f"{method} {path} -> undocumented status"
        schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    except Exception as err:  # no route or wrong method: the generic error shape applies
        if response.status_code < 400 or isinstance(err, AssertionError):
            raise
        schema = {"$ref": "#/components/schemas/Error"}
    Draft202012Validator({**schema, "components": SPEC["components"]}).validate(body)
    return body


@pytest.fixture
def call(app, client):
    """Send a request and check its response against the spec."""

    def send(method: str, path: str, **kwargs):
        response = client.open(path, method=method, **kwargs)
        return response, conform(app, response, method, path)

    return send


def test_spec_documents_exactly_the_routes(app):
    routes = {
        (_template(r.rule), m.lower())
        for r in app.url_map.iter_rules()
        if r.endpoint not in ("static", "chat.page")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(p, m) for p, ops in SPEC["paths"].items() for m in ops}
    assert routes == documented
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_openapi_served(call):
    response, spec = call("GET", "/api/openapi.json")
    assert response.status_code == 200 and spec == SPEC and spec["openapi"].startswith("3.")


def test_ask_returns_the_cli_json_shape(call, web_index, fake_embedder):
    from qa.pipeline import Answerer

    response, body = call("POST", "/api/ask", json={"question": "Bird European expansion"})
    assert response.status_code == 200
    assert list(body)[:3] == ["question", "answer", "citations"]
    answerer = Answerer.open(web_index, fake_embedder, rerank=False, read=False)
    expected = answerer.ask("Bird European expansion", 5).to_json()
    assert body == expected
    assert body["citations"][0]["article_id"] == BIRD


def test_ask_k_history_and_filters(call):
    response, body = call(
        "POST",
        "/api/ask",
        json={
            "question": "Bird European expansion",
            "k": 2,
            "history": [{"question": "who is Bird?", "answer": None}],
            "filters": {"after": "2021-01-01", "author": "  "},
        },
    )
    assert response.status_code == 200 and 1 <= len(body["citations"]) <= 2
    _, narrowed = call(
        "POST",
        "/api/ask",
        json={"question": "Bird European expansion", "filters": {"before": "2000-01-01"}},
    )
    assert narrowed["answer"] is None and narrowed["message"]  # nothing that old: abstains


ALIYUN = "000_d202ff18b057221d"  # 21 Sep 2012; the other tiny seeds are of 2013 and 2021


@pytest.mark.parametrize(
    "payload",
    [
        {"question": "Bird European expansion"},
        {"question": "Bird European expansion", "filters": {"before": "2000-01-01"}},  # abstains
        {"question": "how much did Alibaba invest in 2012?", "now": "2026-03-02"},
        {"question": "what did Bird announce this week?", "now": None},
    ],
)
def test_every_answer_has_timeline_as_of_and_period(call, payload):
    response, body = call("POST", "/api/ask", json=payload)
    assert response.status_code == 200
    assert {"timeline", "as_of", "period"} <= set(body)
    assert body["timeline"] is None or len(body["timeline"]) >= 2


def test_now_is_the_day_asked_on(call):
    response, body = call(
        "POST", "/api/ask", json={"question": "how much did Alibaba invest?", "now": "2012-10-01"}
    )
    assert response.status_code == 200 and body["citations"]
    assert body["citations"][0]["article_id"] == ALIYUN
    assert all(c["date"][:10] <= "2012-10-01" for c in body["citations"])  # later: unseen
    # "this week" read on that day: Monday 1 Oct 2012 to Sunday 7 Oct (relative: no as_of)
    _, week = call(
        "POST",
        "/api/ask",
        json={"question": "what did Alibaba invest this week?", "now": "2012-10-01"},
    )
    assert week["period"] == {
        "start": "2012-10-01",
        "end": "2012-10-07",
        "words": "this week",
        "label": "this week",
    }
    assert week["as_of"] is None
    _, then = call("POST", "/api/ask", json={"question": "what did Alibaba invest in 2012?"})
    assert then["period"] == {
        "start": "2012-01-01",
        "end": "2012-12-31",
        "words": "in 2012",
        "label": "2012",
    }
    assert then["as_of"] == "2012-12-31"
    for empty in (None, ""):  # today, as without the field
        response, _ = call(
            "POST", "/api/ask", json={"question": "how much did Alibaba invest?", "now": empty}
        )
        assert response.status_code == 200


def test_now_before_every_article_sees_none_of_them(call):
    response, body = call(
        "POST", "/api/ask", json={"question": "how much did Alibaba invest?", "now": "2000-01-01"}
    )
    assert response.status_code == 200
    assert body["citations"] == [] and body["answer"] is None and body["message"]
    assert body["exact"] is None and body["timeline"] is None


def test_an_answer_with_a_timeline_matches_the_spec(web_index, fake_embedder):
    from dataclasses import replace
    from datetime import date

    from qa.answer import Dated
    from qa.pipeline import Answerer
    from qa.text.timeline import Period

    class Dating(Answerer):
        def ask(self, *args, **kwargs):
            answer = super().ask(*args, **kwargs)
            assert len(answer.citations) >= 3
            return replace(
                answer,
                timeline=(
                    Dated("$4.8 billion", "2019-06-12", 0, False),
                    Dated("$2.1 billion", "2018-04-03", 2, True),
                    Dated("$2 billion", "2018-04-03", 1, True),
                ),
                period=Period(date(2018, 1, 1), date(2018, 12, 31), "in 2018", False),
                as_of="2018-12-31",
            )

    app = create_app(answerer=Dating.open(web_index, fake_embedder, rerank=False, read=False))
    response = app.test_client().post("/api/ask", json={"question": "Bird European expansion"})
    body = conform(app, response, "POST", "/api/ask")
    assert response.status_code == 200
    assert body["timeline"][1] == {
        "text": "$2.1 billion",
        "date": "2018-04-03",
        "citation": 2,
        "conflict": True,
        "current": False,
    }
    assert body["as_of"] == "2018-12-31"
    assert body["period"] == {
        "start": "2018-01-01",
        "end": "2018-12-31",
        "words": "in 2018",
        "label": "2018",
    }
    broken = {**body, "timeline": [{"text": "$4.8 billion", "date": "June 2019", "citation": 0}]}
    schema = SPEC["paths"]["/api/ask"]["post"]["responses"]["200"]["content"]
    validator = Draft202012Validator(
        {**schema["application/json"]["schema"], "components": SPEC["components"]}
    )
    assert not validator.is_valid(broken)  # the spec does check the entries


@pytest.mark.parametrize(
    ("payload", "code", "says"),
    [
        ({}, "bad_question", "question"),
        ({"question": ""}, "bad_question", "empty"),
        ({"question": "   \n "}, "bad_question", "empty"),
        ({"question": 42}, "bad_question", "string"),
        ({"question": ["a"]}, "bad_question", "string"),
        ({"question": "x" * 1001}, "bad_question", "limit"),
        ({"question": "Bird", "k": 0}, "bad_k", "k must"),
        ({"question": "Bird", "k": 21}, "bad_k", "k must"),
        ({"question": "Bird", "k": "5"}, "bad_k", "k must"),
        ({"question": "Bird", "k": True}, "bad_k", "k must"),
        ({"question": "Bird", "k": 2.5}, "bad_k", "k must"),
        ({"question": "Bird", "filters": []}, "bad_filters", "filters"),
        ({"question": "Bird", "filters": {"after": "yesterday"}}, "bad_filters", "not a date"),
        ({"question": "Bird", "filters": {"since": "2020-01-01"}}, "bad_filters", "since"),
        ({"question": "Bird", "filters": {"author": 7}}, "bad_filters", "author"),
        ({"question": "Bird", "history": "earlier"}, "bad_history", "history"),
        ({"question": "Bird", "history": [{"answer": "x"}]}, "bad_history", "history"),
        ({"question": "Bird", "qestion": "typo"}, "bad_request", "qestion"),
        ({"question": "Bird", "now": "yesterday"}, "bad_now", "now"),
        ({"question": "Bird", "now": "2012-13-01"}, "bad_now", "now"),
        ({"question": "Bird", "now": 5}, "bad_now", "now"),
        ({"question": "Bird", "now": "2012-10-01T12:00"}, "bad_now", "now"),
    ],
)
def test_ask_rejects_bad_input(call, payload, code, says):
    response, body = call("POST", "/api/ask", json=payload)
    assert response.status_code == 400
    assert body["error"]["code"] == code and says in body["error"]["message"]


@pytest.mark.parametrize("data", ['"just a string"', "[1, 2]", "null", "{broken", "", "\xff"])
def test_ask_rejects_a_body_that_is_not_an_object(call, data):
    response, body = call("POST", "/api/ask", data=data, content_type="application/json")
    assert response.status_code == 400 and body["error"]["code"] in ("bad_json", "bad_request")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_ask_wants_json(call, content_type):
    response, body = call(
        "POST", "/api/ask", data='{"question": "Bird"}', content_type=content_type
    )
    assert response.status_code == 415 and "application/json" in body["error"]["message"]


def test_ask_body_limit(call):
    response, body = call("POST", "/api/ask", json={"question": "Bird " * 15_000})
    assert response.status_code == 413 and "64 KiB" in body["error"]["message"]
    # Just under the limit is read (and then refused for being too long a question: 400).
    response, _ = call("POST", "/api/ask", json={"question": "Bird " * 13_000})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/ask", 405),
        ("DELETE", "/api/articles", 405),
        ("PUT", "/api/rebuild", 405),
        ("POST", "/healthz", 405),
        ("GET", "/api/nothing-here", 404),
        ("GET", "/api", 404),
        ("POST", "/api/articles/nope/deeper", 405),
    ],
)
def test_unknown_routes_and_methods_are_json(call, method, path, status):
    response, body = call(method, path)
    assert response.status_code == status and body["error"]["code"]
    if status == 405:
        assert response.headers["Allow"]


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_articles_are_paged_newest_first(call):
    response, page = call("GET", "/api/articles?limit=2")
    assert response.status_code == 200 and page["total"] == 5 and len(page["articles"]) == 2
    _, rest = call("GET", "/api/articles?offset=2&limit=100")
    everything = page["articles"] + rest["articles"]
    assert len({a["id"] for a in everything}) == 5
    dates = [a["date"] for a in everything]
    assert dates == sorted(dates, reverse=True)
    assert all(a["chunks"] >= 1 for a in everything)
    _, past_end = call("GET", "/api/articles?offset=99")
    assert past_end["articles"] == [] and past_end["total"] == 5


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=ten"])
def test_articles_reject_bad_paging(call, query):
    response, body = call("GET", f"/api/articles?{query}")
    assert response.status_code == 400 and body["error"]["code"] == "bad_request"


def test_article_text_matches_citation_offsets(call):
    _, answer = call("POST", "/api/ask", json={"question": "Bird European expansion"})
    cite = answer["citations"][0]
    response, article = call("GET", f"/api/articles/{cite['article_id']}")
    assert response.status_code == 200
    assert article["text"][cite["start"] : cite["end"]] == cite["snippet"]
    assert article["title"] == cite["title"] and article["chunks"] >= 1


def test_article_ids_with_slashes(tiny_seeds, tmp_path, fake_embedder):
    (tiny_seeds / "world" / "europe").mkdir(parents=True)
    shutil.copy(tiny_seeds / f"{BIRD}.txt", tiny_seeds / "world" / "europe" / "bird-copy.txt")
    (tiny_seeds / f"{BIRD}.txt").unlink()
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    app = create_app(
        {"RERANK": False, "READ": False, "INDEX_DIR": str(tmp_path / "ix")}, embedder=fake_embedder
    )
    path = "/api/articles/world/europe/bird-copy"
    response = app.test_client().get(path)
    body = conform(app, response, "GET", path)
    assert response.status_code == 200 and body["id"] == "world/europe/bird-copy"
    assert "Bird" in body["text"]


def test_unknown_article_is_404(call):
    response, body = call("GET", "/api/articles/no/such/article")
    assert response.status_code == 404 and "no/such/article" in body["error"]["message"]


def test_healthz(call, web_index):
    response, health = call("GET", "/healthz")
    meta = json.loads(
        (web_index / (web_index / "current").read_text().strip() / "meta.json").read_text()
    )
    assert response.status_code == 200
    assert health["index_loaded"] is True and health["model"] == "fake-hash-embedder"
    assert (health["articles"], health["chunks"]) == (meta["articles"], meta["chunks"])
    assert health["built"] == meta["built"] and health["generation"].startswith("gen-")


def test_503_until_an_index_exists_then_serves_it(tiny_seeds, tmp_path, fake_embedder):
    index_dir = tmp_path / "later"
    app = create_app(
        {"RERANK": False, "READ": False, "INDEX_DIR": str(index_dir), "RELOAD_INTERVAL": 0},
        embedder=fake_embedder,
    )
    client = app.test_client()
    for method, path, kwargs in [
        ("POST", "/api/ask", {"json": {"question": "Bird"}}),
        ("GET", "/api/articles", {}),
        ("GET", f"/api/articles/{BIRD}", {}),
        ("GET", "/healthz", {}),
    ]:
        response = client.open(path, method=method, **kwargs)
        body = conform(app, response, method, path)
        assert response.status_code == 503 and "qa index" in body["error"]["message"]
    assert fake_embedder.calls == 0  # no index, no model work
    build(tiny_seeds, index_dir, fake_embedder)
    response = client.post("/api/ask", json={"question": "Bird European expansion"})
    assert response.status_code == 200
    assert response.get_json()["citations"][0]["article_id"] == BIRD


def test_a_crash_is_json_without_internals(web_index, fake_embedder):
    from qa.pipeline import Answerer

    class Broken(Answerer):
        def ask(self, *args, **kwargs):
            raise RuntimeError("secret internals")

    app = create_app(answerer=Broken.open(web_index, fake_embedder))
    response = app.test_client().post("/api/ask", json={"question": "Bird"})
    body = conform(app, response, "POST", "/api/ask")
    assert response.status_code == 500 and body["error"]["code"] == "internal"
    assert b"secret" not in response.data and b"Traceback" not in response.data


def test_a_vector_store_that_cannot_be_reached_is_503(web_index, fake_embedder):
    from index.errors import StoreUnavailable
    from qa.pipeline import Answerer

    class Unreachable(Answerer):
        def ask(self, *args, **kwargs):
            raise StoreUnavailable("cannot connect to Milvus at http://milvus:19530: timeout")

    app = create_app(answerer=Unreachable.open(web_index, fake_embedder))
    response = app.test_client().post("/api/ask", json={"question": "Bird"})
    body = conform(app, response, "POST", "/api/ask")
    assert response.status_code == 503 and body["error"]["code"] == "store_unavailable"
    assert "Milvus" in body["error"]["message"] and response.headers["Retry-After"] == "5"


def test_an_index_object_can_be_passed(web_index, fake_embedder):
    from index.store import load_index

    app = create_app(
        {"RERANK": False, "READ": False}, index=load_index(web_index), embedder=fake_embedder
    )
    response = app.test_client().post("/api/ask", json={"question": "Bird European expansion"})
    assert response.status_code == 200 and response.get_json()["answer"]


def test_chat_page_has_no_inline_script_and_a_strict_csp(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "chat.js" in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"https?://", html)  # nothing from a CDN
    for asset in ("/static/chat.js", "/static/chat.css"):
        assert client.get(asset).status_code == 200


# --- POST/GET /api/rebuild ---

AUTH = {"Authorization": "Bearer secret"}


def _new_article(seeds, name="zebra.txt"):
    (seeds / name).write_text(
        '{"title": "Zebras take over Oslo", "date": "2024-05-01", "author": "Ann Lee"}\n'
        "<p>A herd of 300 zebras took over the streets of Oslo on Tuesday morning.</p>\n"
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rebuild_is_disabled_without_a_token(web_index, tiny_seeds, fake_embedder, method):
    app = create_app(
        {
            "RERANK": False,
            "READ": False,
            "INDEX_DIR": str(web_index),
            "SEEDS_DIR": str(tiny_seeds),
            "ADMIN_TOKEN": None,
        },
        embedder=fake_embedder,
    )
    response = app.test_client().open("/api/rebuild", method=method, headers=AUTH)
    body = conform(app, response, method, "/api/rebuild")
    assert response.status_code == 403 and "NEWSQA_ADMIN_TOKEN" in body["error"]["message"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "Bearer secre", "Basic secret", "secret", "Bearer ", "Bearer sécret"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rebuild_needs_the_right_token(call, header, method, web_index):
    headers = {"Authorization": header} if header else {}
    response, body = call(method, "/api/rebuild", headers=headers)
    assert response.status_code == 401 and body["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not (web_index / "rebuild.json").exists()  # nothing was started


def test_rebuild_adds_a_new_article_and_the_app_serves_it(app, call, tiny_seeds):
    response, idle = call("GET", "/api/rebuild", headers=AUTH)
    assert idle == {"state": "idle"}
    _new_article(tiny_seeds)
    (tiny_seeds / "broken.txt").write_bytes(b'{"title": "no end"\n<p>text</p>')
    response, started = call("POST", "/api/rebuild", headers=AUTH)
    assert response.status_code == 202 and started["state"] == "running"
    assert response.headers["Location"] == "/api/rebuild"
    app.extensions["newsqa.rebuilder"].wait(60)
    _, status = call("GET", "/api/rebuild", headers=AUTH)
    assert status["state"] == "done", status
    assert status["report"]["added"] == ["zebra"] and status["report"]["unchanged"] == 5
    assert status["report"]["embedded"] >= 1 and status["progress"] is not None
    [skipped] = status["report"]["skipped"]  # a bad seed is reported, not fatal
    assert skipped["path"].endswith("broken.txt") and "header" in skipped["reason"]
    _, answer = call("POST", "/api/ask", json={"question": "zebras in Oslo"})
    assert answer["citations"][0]["article_id"] == "zebra"
    _, health = call("GET", "/healthz")
    assert health["generation"] == status["report"]["generation"]


def test_rebuild_reports_a_failure(web_index, tmp_path, fake_embedder):
    app = create_app(
        {
            "RERANK": False,
            "READ": False,
            "INDEX_DIR": str(web_index),
            "SEEDS_DIR": str(tmp_path / "gone"),
            "ADMIN_TOKEN": "secret",
        },
        embedder=fake_embedder,
    )
    client = app.test_client()
    assert client.post("/api/rebuild", headers=AUTH).status_code == 202
    app.extensions["newsqa.rebuilder"].wait(60)
    response = client.get("/api/rebuild", headers=AUTH)
    status = conform(app, response, "GET", "/api/rebuild")
    assert status["state"] == "failed" and "does not exist" in status["error"]["message"]
    assert client.post("/api/ask", json={"question": "Bird"}).status_code == 200  # still serving


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"full": "yes"}}, 400),
        ({"json": {"fast": True}}, 400),
        ({"json": [True]}, 400),
        ({"data": "full", "content_type": "text/plain"}, 415),
    ],
)
def test_rebuild_rejects_a_bad_body(call, kwargs, status):
    response, _ = call("POST", "/api/rebuild", headers=AUTH, **kwargs)
    assert response.status_code == status


class GatedEmbedder:
    """The fake embedder, but encoding many texts waits until the test opens the gate."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def encode(self, texts):
        if len(texts) > 1 or "zebra" in texts[0].lower():  # a build, not a question
            self.waiting.set()
            assert self.gate.wait(30)
        return self.inner.encode(texts)


def test_rebuild_while_one_runs_is_409(web_index, tiny_seeds, fake_embedder):
    gated = GatedEmbedder(fake_embedder)
    config = {
        "RERANK": False,
        "READ": False,
        "INDEX_DIR": str(web_index),
        "SEEDS_DIR": str(tiny_seeds),
        "ADMIN_TOKEN": "secret",
    }
    app = create_app(config, embedder=gated)
    client = app.test_client()
    _new_article(tiny_seeds)
    assert client.post("/api/rebuild", headers=AUTH).status_code == 202
    assert gated.waiting.wait(30)
    response = client.post("/api/rebuild", headers=AUTH)
    body = conform(app, response, "POST", "/api/rebuild")
    assert response.status_code == 409 and body["error"]["code"] == "rebuild_running"
    assert client.get("/api/rebuild", headers=AUTH).get_json()["state"] == "running"
    # A second app (another gunicorn worker) sees the lock file and refuses too.
    other = create_app(config, embedder=fake_embedder).test_client()
    assert other.post("/api/rebuild", headers=AUTH).status_code == 409
    assert other.get("/api/rebuild", headers=AUTH).get_json()["state"] == "running"
    gated.gate.set()
    app.extensions["newsqa.rebuilder"].wait(60)
    assert client.get("/api/rebuild", headers=AUTH).get_json()["state"] == "done"


def test_rebuild_refused_while_qa_index_holds_the_lock(call, web_index):
    with BuildLock(web_index):
        response, body = call("POST", "/api/rebuild", headers=AUTH)
    assert response.status_code == 409 and str(web_index) in body["error"]["message"]
