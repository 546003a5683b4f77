"""Saved questions (issue #24): the store, one change per new answer, the API, Atom, the CLI."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import feedparser
import pytest
from click.testing import CliRunner

from cli.main import cli
from index.build import build
from index.settings import Settings
from qa.answer import Answer, Citation, Dated, Exact
from qa.saved import MAX_SAVED, SAVED_FILE, SavedStore, check_all
from qa.saved.atom import entry_title
from tests.test_api import conform
from web import create_app

AUTH = {"Authorization": "Bearer secret"}
BIRD_Q = "How much will Bird spend on its European expansion?"
BIRD_300 = (
    '{"title": "Bird to spend $300 million on European expansion", "date": "2024-05-01", '
    '"author": "Ann Lee"}\n<p>Bird will now spend $300 million on its European expansion, '
    "the scooter company said on Tuesday, doubling the plan it announced earlier.</p>\n"
)
PASTA = (
    '{"title": "How to cook pasta", "date": "2024-05-02", "author": "Ann Lee"}\n'
    "<p>Boil the water, add salt and cook the pasta for nine minutes. "
    "Serve it with tomato sauce.</p>\n"
)


# --- a fake answerer whose answers the test controls ---


def _answer(question: str, exact: str | None, timeline=(), url="https://example.com/a") -> Answer:
    if exact is None:
        return Answer(question, None, (), message="no answer")
    citation = Citation(
        snippet=f"They said {exact} & more <b>.",
        title="A <source> & co",
        date="2024-05-01T00:00:00+00:00",
        author="Ann Lee",
        url=url,
        score=1.0,
        start=0,
        end=10,
        highlight=(10, 10 + len(exact)),
        article_id="a",
        chunk_id="a#0",
    )
    dated = tuple(Dated(text, day, 0, False) for text, day in timeline)
    return Answer(
        question, citation.snippet, (citation,), exact=Exact(exact, 0, None), timeline=dated
    )


class FakeAnswerer:
    """Answer every question with `exact` (and `timeline`); count the questions asked."""

    def __init__(self, exact: str | None, timeline=(), url="https://example.com/a") -> None:
        self.exact, self.timeline, self.url = exact, timeline, url
        self.asked = 0

    def ask(self, question, k=5, *, filters=None):
        self.asked += 1
        return _answer(question, self.exact, self.timeline, self.url)


@pytest.fixture
def store(tmp_path) -> SavedStore:
    return SavedStore.in_index(tmp_path / "ix")


# --- the store and the change detection ---


def test_first_check_is_a_baseline_then_one_change_per_new_answer(store):
    saved = store.add("  how much   did Bird spend? ", {"after": "2020-01-01", "author": None})
    assert saved.question == "how much did Bird spend?" and saved.filters == {"after": "2020-01-01"}
    assert len(saved.id) >= 20 and store.path.name == SAVED_FILE
    [first] = check_all(store, FakeAnswerer("$150 million"), "gen-000001")
    assert first.status == "baseline" and store.changes(saved.id) == []
    [same] = check_all(store, FakeAnswerer("$150 million", url="https://other.example"), "gen-2")
    assert same.status == "unchanged" and store.changes(saved.id) == []  # citations alone: no
    [changed] = check_all(store, FakeAnswerer("$300 million"), "gen-3")
    assert (changed.status, changed.before, changed.after) == (
        "changed",
        "$150 million",
        "$300 million",
    )
    [change] = store.changes(saved.id)
    assert change.generation == "gen-3" and change.question == saved.question
    assert change.before["exact"]["text"] == "$150 million"
    assert change.before["citations"][0]["url"] == "https://other.example"  # the last kept
    assert change.after["exact"]["text"] == "$300 million" and change.after["citations"]
    assert store.kept(saved.id).generation == "gen-3"


def test_a_timeline_change_is_a_change_and_no_answer_is_one_too(store):
    saved = store.add("how much?")
    check_all(store, FakeAnswerer("$3"), "gen-1")
    check_all(store, FakeAnswerer("$3", [("$3", "2024-05-01"), ("$2", "2023-01-01")]), "gen-2")
    check_all(store, FakeAnswerer(None), "gen-3")
    later, earlier = store.changes(saved.id)
    assert entry_title(earlier) == "how much?: $3 → $3 (timeline changed)"
    assert entry_title(later) == "how much?: $3 → no answer" and later.after["exact"] is None


def test_two_workers_checking_one_generation_record_one_change(store):
    saved = store.add("how much?")
    check_all(store, FakeAnswerer("$1"), "gen-1")
    other = SavedStore(store.path)  # another worker: its own connections to the same file
    barrier = threading.Barrier(2)
    results = {}

    def worker(name: str, s: SavedStore) -> None:
        barrier.wait()
        results[name] = check_all(s, FakeAnswerer("$2"), "gen-2")

    threads = [threading.Thread(target=worker, args=pair) for pair in (("a", store), ("b", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.status for r in results.values() for o in r) == ["changed", "skipped"]
    assert len(store.changes(saved.id)) == 1
    # Even without the claim, the store keeps one answer per generation: no second change.
    assert store.record(saved.id, "gen-2", _answer("how much?", "$9").to_json())[0] == "skipped"
    assert [o.status for o in check_all(other, FakeAnswerer("$2"), "gen-2")] == ["skipped"]
    assert len(store.changes(saved.id)) == 1


def test_an_older_generation_never_replaces_a_newer_answer(store):
    saved = store.add("how much?")
    assert store.record(saved.id, "gen-000004", _answer("how much?", "$4").to_json())[0] == (
        "baseline"
    )
    # A slower worker still on gen-3 (or a baseline taken there) comes in after gen-4.
    late = store.record(saved.id, "gen-000003", _answer("how much?", "$3").to_json())
    assert late[0] == "skipped" and store.kept(saved.id).generation == "gen-000004"
    assert store.changes(saved.id) == []


def test_a_failed_ask_leaves_the_generation_unclaimed(store):
    from qa.errors import ModelMissing

    saved = store.add("how much?")

    class Broken:
        def ask(self, question, k=5, *, filters=None):
            raise ModelMissing("no reader")

    [failed] = check_all(store, Broken(), "gen-1")
    assert failed.status == "failed" and "no reader" in failed.line()
    [ok] = check_all(store, FakeAnswerer("$1"), "gen-1")  # retried, not skipped
    assert ok.status == "baseline" and store.kept(saved.id).exact == "$1"


def test_the_store_is_bounded(store):
    from qa.saved import SavedLimit

    assert MAX_SAVED == 200 and store.limit == MAX_SAVED
    small = SavedStore(store.path, limit=2)
    small.add("one?")
    small.add("two?")
    with pytest.raises(SavedLimit, match="remove one first"):
        small.add("three?")
    small.remove(small.all()[0].id)
    small.add("three?")


# --- the API ---


def _client_call(app):
    client = app.test_client()

    def send(method: str, path: str, **kwargs):
        response = client.open(path, method=method, **kwargs)
        if response.mimetype == "application/atom+xml":
            return response, response.data
        return response, conform(app, response, method, path)

    return send


@pytest.fixture
def call(app):
    return _client_call(app)


def _wait(app) -> None:
    app.extensions["newsqa.rebuilder"].wait(60)
    assert app.extensions["newsqa.saved_follower"].wait(60)


def test_save_returns_201_with_id_feed_and_baseline(call, web_index):
    response, body = call("POST", "/api/saved", json={"question": BIRD_Q}, headers=AUTH)
    assert response.status_code == 201, body
    saved_id = body["id"]
    assert body["feed"] == f"/api/saved/{saved_id}/changes.atom"
    assert body["changes"] == response.headers["Location"] == f"/api/saved/{saved_id}/changes"
    assert body["answer"]["exact"] == "$150 million" and body["answer"]["generation"]
    assert (web_index / SAVED_FILE).is_file()
    _, listed = call("GET", "/api/saved", headers=AUTH)
    assert listed["limit"] == MAX_SAVED and [s["id"] for s in listed["saved"]] == [saved_id]
    assert listed["saved"][0]["latest_change"] is None
    _, changes = call("GET", body["changes"])  # no token: the id is the secret
    assert changes["question"] == BIRD_Q and changes["changes"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/saved"),
        ("GET", "/api/saved"),
        ("DELETE", "/api/saved/some-id"),
        ("GET", "/api/saved/changes.atom"),
    ],
)
def test_auth_is_required_unless_open(web_index, tiny_seeds, fake_embedder, method, path):
    def app_with(**config):
        base = {"RERANK": False, "READ": False, "INDEX_DIR": str(web_index)}
        return create_app({**base, "SEEDS_DIR": str(tiny_seeds), **config}, embedder=fake_embedder)

    kwargs = {"json": {"question": BIRD_Q}} if method == "POST" else {}
    guarded = _client_call(app_with(ADMIN_TOKEN="secret"))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "secret"}):
        response, body = guarded(method, path, headers=headers, **kwargs)
        assert response.status_code == 401 and body["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response, body = _client_call(app_with(ADMIN_TOKEN=None))(method, path, headers=AUTH, **kwargs)
    assert response.status_code == 403 and "NEWSQA_SAVED_OPEN" in body["error"]["message"]
    response, _ = _client_call(app_with(ADMIN_TOKEN=None, SAVED_OPEN=True))(method, path, **kwargs)
    assert response.status_code == {"POST": 201, "GET": 200, "DELETE": 404}[method]


def test_the_limit_is_a_409_and_bad_bodies_are_400s(app, call):
    app.extensions["newsqa.saved"].limit = 2
    for n in range(2):
        response, _ = call("POST", "/api/saved", json={"question": f"q{n}?"}, headers=AUTH)
        assert response.status_code == 201
    response, body = call("POST", "/api/saved", json={"question": "q3?"}, headers=AUTH)
    assert response.status_code == 409 and body["error"]["code"] == "saved_limit"
    for payload, code in [
        ({"question": ""}, "bad_question"),
        ({"question": "x" * 1001}, "bad_question"),
        ({"question": 3}, "bad_question"),
        ({}, "bad_question"),
        ({"question": "q?", "filters": {"after": "soon"}}, "bad_filters"),
        ({"question": "q?", "k": 3}, "bad_request"),
        (["q?"], "bad_request"),
    ]:
        response, body = call("POST", "/api/saved", json=payload, headers=AUTH)
        assert response.status_code == 400 and body["error"]["code"] == code, payload


def test_a_new_article_that_changes_the_answer_makes_one_change(app, call, tiny_seeds):
    _, saved = call("POST", "/api/saved", json={"question": BIRD_Q}, headers=AUTH)
    first = saved["answer"]["generation"]
    (tiny_seeds / "pasta.txt").write_text(PASTA)  # unrelated: nothing differs
    assert call("POST", "/api/rebuild", headers=AUTH)[0].status_code == 202
    _wait(app)
    _, after_pasta = call("GET", saved["changes"])
    assert after_pasta["answer"]["generation"] != first and after_pasta["changes"] == []
    (tiny_seeds / "bird300.txt").write_text(BIRD_300)
    assert call("POST", "/api/rebuild", headers=AUTH)[0].status_code == 202
    _wait(app)
    _, body = call("GET", saved["changes"])
    [change] = body["changes"]
    assert change["before"]["exact"]["text"] == "$150 million"
    assert change["after"]["exact"]["text"] == "$300 million"
    assert change["after"]["citations"][0]["article_id"] == "bird300"
    assert (
        change["generation"] == body["answer"]["generation"] != after_pasta["answer"]["generation"]
    )
    _, listed = call("GET", "/api/saved", headers=AUTH)
    latest = listed["saved"][0]["latest_change"]
    assert (latest["from"], latest["to"], latest["id"]) == (
        "$150 million",
        "$300 million",
        change["id"],
    )
    # Another worker noticing the same generation asks nothing new and records nothing.
    other = SavedStore(app.extensions["newsqa.saved"].path)
    outcomes = check_all(other, FakeAnswerer("$1"), change["generation"])
    assert [o.status for o in outcomes] == ["skipped"]


def _changed(app, question="Bird <b>spend</b> & \x01more?") -> str:
    store = app.extensions["newsqa.saved"]
    saved = store.add(question)
    check_all(store, FakeAnswerer("$150 million"), "gen-a")
    check_all(store, FakeAnswerer("$300 million", url="javascript:alert(1)"), "gen-b")
    return saved.id


def test_the_atom_feed_is_valid_and_feedparser_reads_it(app, call):
    saved_id = _changed(app)
    response, xml = call("GET", f"/api/saved/{saved_id}/changes.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(xml)  # well-formed, the control character dropped
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.find("a:id", ns).text.startswith("urn:uuid:")
    assert root.find("a:link[@rel='self']", ns).get("href").endswith("/changes.atom")
    parsed = feedparser.parse(xml, response_headers={"content-type": "application/atom+xml"})
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.title == "newsqa: Bird <b>spend</b> & more?"
    [entry] = parsed.entries
    assert entry.title == "Bird <b>spend</b> & more?: $150 million → $300 million"
    assert entry.id.startswith("urn:uuid:") and entry.updated_parsed is not None
    assert entry.link == f"http://localhost/api/saved/{saved_id}/changes"
    content = entry.content[0].value
    assert "$150 million" in content and "$300 million" in content
    assert "https://example.com/a" in content and "A &lt;source&gt; &amp; co" in content
    assert "javascript:" not in content  # an article's odd URL never becomes a link
    _, everything = call("GET", "/api/saved/changes.atom", headers=AUTH)
    all_feed = feedparser.parse(everything)
    assert all_feed.bozo == 0 and [e.id for e in all_feed.entries] == [entry.id]


def test_saved_questions_and_changes_survive_a_restart(app, web_index, tiny_seeds, fake_embedder):
    saved_id = _changed(app, "how much?")
    config = {"RERANK": False, "READ": False, "INDEX_DIR": str(web_index)}
    config |= {"SEEDS_DIR": str(tiny_seeds), "ADMIN_TOKEN": "secret"}
    again = create_app(config, embedder=fake_embedder)
    call = _client_call(again)
    _, listed = call("GET", "/api/saved", headers=AUTH)
    [item] = listed["saved"]
    assert item["id"] == saved_id and item["latest_change"]["to"] == "$300 million"
    _, body = call("GET", f"/api/saved/{saved_id}/changes")
    assert len(body["changes"]) == 1 and body["answer"]["generation"] == "gen-b"


def test_delete_removes_the_question_and_its_changes(app, call):
    saved_id = _changed(app, "how much?")
    response, body = call("DELETE", f"/api/saved/{saved_id}", headers=AUTH)
    assert response.status_code == 200 and body == {"deleted": saved_id}
    for path in (f"/api/saved/{saved_id}/changes", f"/api/saved/{saved_id}/changes.atom"):
        response, body = call("GET", path)
        assert response.status_code == 404 and body["error"]["code"] == "not_found"
    response, _ = call("DELETE", f"/api/saved/{saved_id}", headers=AUTH)
    assert response.status_code == 404
    assert app.extensions["newsqa.saved"].changes() == []
    _, listed = call("GET", "/api/saved", headers=AUTH)
    assert listed["saved"] == []


# --- the CLI ---


def test_cli_add_list_check_remove(web_index, tiny_seeds, fake_embedder, tmp_path):
    settings = Settings(index_dir=web_index, rerank=False, read=False)
    runner = CliRunner()

    def qa(*args: str):
        return runner.invoke(
            cli, ["saved", *args], obj={"embedder": fake_embedder, "settings": settings}
        )

    added = qa("add", BIRD_Q)
    assert added.exit_code == 0, added.output
    saved_id = added.output.split()[1].rstrip(":")
    assert "baseline at gen-" in added.output and "'$150 million'" in added.output
    listed = qa("list")
    assert saved_id in listed.output and "'$150 million'" in listed.output
    assert "skipped" in qa("check").output  # the baseline's generation: asked already
    (tiny_seeds / "bird300.txt").write_text(BIRD_300)
    build(tiny_seeds, web_index, fake_embedder)
    checked = qa("check")
    assert checked.exit_code == 0 and "changed: '$150 million' → '$300 million'" in checked.output
    assert "→ '$300 million'" in qa("list").output
    assert qa("remove", saved_id).output.strip() == f"removed {saved_id}"
    assert qa("list").output.strip() == "no saved questions"
    missing = qa("remove", saved_id)
    assert missing.exit_code == 2 and "no saved question" in missing.output
    assert qa("add", "").exit_code == 2
    empty = runner.invoke(
        cli,
        ["saved", "add", "who?", "--index", str(tmp_path / "none")],
        obj={"embedder": fake_embedder, "settings": settings},
    )
    assert empty.exit_code == 0 and "no index yet" in empty.output
