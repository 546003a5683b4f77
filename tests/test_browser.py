"""The chat page in real headless Chromium (Debian's, installed by `make browser`)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from index.build import build
from tests.conftest import REPO, SEEDS, TINY, FakeEmbedder
from web import create_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 120_000  # the real model on 2 busy cores


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert not errors, errors  # no JavaScript exception on the page


def _ask(page, question: str):
    """Type a question, press Enter, return the new answer (or error) bubble once it is shown."""
    before = page.locator(".row.bot").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    bubble = page.locator(".row.bot").nth(before).locator(".bubble:not(.loading)")
    bubble.wait_for(timeout=WAIT_MS)
    return bubble


@pytest.mark.model
def test_ask_alibaba_and_see_the_cited_answer(page, serve, default_index, real_embedder):
    base = serve(create_app({"INDEX_DIR": str(default_index)}, embedder=real_embedder))
    page.goto(base)
    page.locator("#status", has_text="articles").wait_for()
    answer = _ask(page, "how much did Alibaba invest?")
    assert "answer" in answer.get_attribute("class")
    assert answer.locator(".exact-text").inner_text() == "US$200 million"  # bold, first
    quote = answer.locator("blockquote.quote").first
    assert "US$200 million" in quote.inner_text()
    assert "200 million" in quote.locator("mark.hl").inner_text()  # the highlighted span
    title = answer.locator(".source a.title").first
    assert "Alibaba" in title.inner_text()
    assert title.get_attribute("href").startswith("http://feedproxy.google.com/")
    assert title.get_attribute("rel") == "noopener noreferrer"
    meta = answer.locator(".source .meta").first.inner_text()
    assert "Natasha Lomas" in meta and "2012" in meta

    # "Show in article": the whole text, the cited passage marked and scrolled into view.
    answer.locator("button.show").first.click()
    cite = page.locator("#reader-text mark.cite")
    cite.wait_for(timeout=WAIT_MS)
    assert "US$200 million" in cite.inner_text()
    assert "Alibaba" in page.locator("#reader-title").inner_text()
    assert len(page.locator("#reader-text").inner_text()) > len(cite.inner_text()) * 3
    box, pane = cite.bounding_box(), page.locator("#reader-text").bounding_box()
    assert pane["y"] <= box["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"]
    page.keyboard.press("Escape")
    assert not page.locator("#reader").is_visible()

    # Shift+Enter is a new line, not a send.
    page.fill("#question", "and who")
    page.press("#question", "Shift+Enter")
    page.type("#question", "runs it?")
    assert page.input_value("#question") == "and who\nruns it?"
    assert page.locator(".row.me").count() == 1

    # The conversation survives a reload and is sent along as history.
    page.reload()
    assert "US$200 million" in page.locator(".bubble.answer").first.inner_text()
    page.fill("#question", "and when did that happen?")  # a follow-up, answered in context
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as request:
        page.press("#question", "Enter")
    sent = request.value.post_data_json
    assert sent["history"] == [
        {"question": "how much did Alibaba invest?", "answer": sent["history"][0]["answer"]}
    ]
    assert "US$200 million" in sent["history"][0]["answer"]
    follow = page.locator(".row.bot").nth(1).locator(".bubble:not(.loading)")
    follow.wait_for(timeout=WAIT_MS)
    # "yesterday" in an article of 21 Sep 2012, shown with the day it means
    assert follow.locator(".exact").inner_text() == "yesterday — 20 Sep 2012"
    page.click("#new-chat")
    assert page.locator(".row").count() == 0 and page.locator("#welcome").is_visible()


@pytest.fixture
def timeline_index(tmp_path, real_embedder) -> Path:
    """The fictional series of eval/timeline beside five real seeds, with the real model."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in sorted((REPO / "eval" / "timeline" / "articles").glob("*.txt")):
        shutil.copy(path, seeds / path.name)
    for name in TINY:  # real news around them (Stripe's valuation among them)
        shutil.copy(SEEDS / name, seeds / name)
    build(seeds, tmp_path / "ix", real_embedder)
    return tmp_path / "ix"


@pytest.mark.model
def test_answers_show_earlier_values_and_sources_that_differ(
    page, serve, timeline_index, real_embedder
):
    base = serve(create_app({"INDEX_DIR": str(timeline_index)}, embedder=real_embedder))
    page.goto(base)
    page.locator("#status", has_text="articles").wait_for()

    # The newest value, then the earlier ones with the day each was first reported.
    answer = _ask(page, "How much is Quillfeather valued at?")
    assert answer.locator(".exact").inner_text() == "$4.8 billion"  # no "as of": none named
    line = answer.locator(".timeline").inner_text()
    assert line.startswith("Earlier: ") and "Later" not in line and "differ" not in line
    assert "$2.1 billion — 3 Apr 2018" in line and "$650 million — 9 Jan 2017" in line
    assert line.index("$2.1 billion") < line.index("$650 million")  # newest first
    assert "$4.8 billion" not in line  # the answer itself is not repeated
    if os.environ.get("NEWSQA_SCREENSHOT"):  # regenerate docs/chat.png
        page.wait_for_timeout(500)  # let the smooth scroll and the fade-in end
        page.screenshot(path=os.environ["NEWSQA_SCREENSHOT"])
    # A value shows its citation: "more sources" opens on it, highlighted.
    answer.locator(".timeline button.tl-value", has_text="$650 million").click()
    shown = answer.locator(".more-item.flash")
    shown.wait_for()
    assert answer.locator("details.more").get_attribute("open") is not None
    assert "$650 million" in shown.locator("mark.hl").inner_text()

    # As of a named year: that year's value, with the earlier and the later ones.
    then = _ask(page, "What was Quillfeather valued at in 2018?")
    assert then.locator(".exact").inner_text() == "$2.1 billion (as of 2018)"
    lines = then.locator(".timeline .tl-line").all_inner_texts()
    assert lines == ["Earlier: $650 million — 9 Jan 2017", "Later: $4.8 billion — 12 Jun 2019"]

    # Two outlets, the same evening, two crowd sizes: both shown, with who reported each.
    march = _ask(page, "How many people joined the Marchfield climate march?")
    assert march.locator(".exact-text").inner_text() in ("120,000", "45,000")
    differ = march.locator(".timeline.differ").inner_text()
    assert differ.startswith("Sources differ: ")
    assert "120,000 (Juniper Halsey)" in differ and "45,000 (Ferdinand Okonjo-Blake)" in differ
    assert "Earlier" not in differ
    for value in ("120,000", "45,000"):
        button = march.locator(".timeline button.tl-value", has_text=value)
        button.click()
        march.locator(".flash", has_text=value).wait_for()


EVIL_ARTICLE = """{
"title" : "Zebra census <img src=x onerror=window.pwned=1> in Oslo",
"date" : "2024-05-01",
"author" : "<script>window.pwned=2</script>",
"url" : "javascript:window.pwned=3"
}

<p>The zebra census in Oslo counted &lt;img src=x onerror="window.pwned=4"&gt; 300 zebras &lt;script&gt;window.pwned=5&lt;/script&gt; on the streets.</p>
<p><img src=x onerror="window.pwned=6"><script>window.pwned=7</script>Volunteers counted the zebras of Oslo twice.</p>
"""
EVIL_QUESTION = (
    "how many zebras in Oslo <script>window.pwned=8</script><img src=x onerror=window.pwned=9>"
)


def test_markup_in_articles_and_questions_never_runs(page, serve, tiny_seeds, tmp_path):
    (tiny_seeds / "evil.txt").write_text(EVIL_ARTICLE)
    embedder = FakeEmbedder()
    build(tiny_seeds, tmp_path / "ix", embedder)
    base = serve(
        create_app(
            {"RERANK": False, "READ": False, "INDEX_DIR": str(tmp_path / "ix")}, embedder=embedder
        )
    )
    page.goto(base)
    answer = _ask(page, EVIL_QUESTION)
    shown = page.locator("#log")
    assert "<script>window.pwned=8</script><img src=x onerror=window.pwned=9>" in (
        page.locator(".bubble.question").inner_text()
    )
    text = answer.text_content()
    assert '<img src=x onerror="window.pwned=4">' in text  # shown as text, escaped
    assert "<script>window.pwned=5</script>" in text
    assert "Zebra census <img src=x onerror=window.pwned=1> in Oslo" in text
    assert "<script>window.pwned=2</script>" in text
    assert shown.locator("img, script, iframe").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0  # the javascript: url is no link

    evil = answer.locator(".source", has_text="Zebra census").first
    evil.locator("button.show").click()
    page.locator("#reader-text mark.cite").wait_for()
    reader = page.locator("#reader-text").inner_text()
    assert '<img src=x onerror="window.pwned=4">' in reader
    assert page.locator("#reader img, #reader script").count() == 0
    page.wait_for_timeout(300)  # give any injected handler a chance to fire
    assert page.evaluate("window.pwned") is None


def test_errors_and_abstentions_read_well(page, serve, tmp_path, tiny_seeds):
    embedder = FakeEmbedder()
    index_dir = tmp_path / "ix"
    base = serve(
        create_app(
            {"RERANK": False, "READ": False, "INDEX_DIR": str(index_dir), "RELOAD_INTERVAL": 0},
            embedder=embedder,
        )
    )
    page.goto(base)
    page.locator("#status", has_text="No index").wait_for()
    error = _ask(page, "where is Bird expanding?")
    assert "error" in error.get_attribute("class")
    assert "isn't ready" in error.inner_text() and "qa index" in error.inner_text()
    assert page.locator("#send").is_enabled()  # the loading state ended

    build(tiny_seeds, index_dir, embedder)
    error.locator("button", has_text="Try again").click()
    answer = page.locator(".bubble.answer").first
    answer.wait_for(timeout=WAIT_MS)
    assert page.locator(".bubble.error").count() == 0

    page.click("#filters summary")
    page.fill("input[name=before]", "1999-12-31")
    abstain = _ask(page, "where is Bird expanding?")
    assert "abstain" in abstain.get_attribute("class")
    assert "No answer in the articles" in abstain.inner_text()
    api = page.request.post(
        f"{base}/api/ask",
        data={"question": "where is Bird expanding?", "filters": {"before": "1999-12-31"}},
    ).json()
    assert api["answer"] is None and api["message"] in abstain.inner_text()


@pytest.fixture
def fake_index(tiny_seeds, tmp_path) -> tuple[Path, FakeEmbedder]:
    """The five tiny seeds indexed with the fake embedder: fast, no model."""
    embedder = FakeEmbedder()
    build(tiny_seeds, tmp_path / "ix", embedder)
    return tmp_path / "ix", embedder


def _fake_app(index_dir: Path, embedder: FakeEmbedder, **config):
    return create_app(
        {"RERANK": False, "READ": False, "INDEX_DIR": str(index_dir), **config}, embedder=embedder
    )


def _record(store, saved_id: str, generation: str, exact: str) -> None:
    """Keep an answer for a saved question as a check of `generation` would."""
    store.record(saved_id, generation, {"answer": exact, "exact": {"text": exact}, "timeline": []})


def test_follow_a_question_and_see_its_changes(page, serve, fake_index):
    app = _fake_app(*fake_index, SAVED_OPEN=True)
    store = app.extensions["newsqa.saved"]
    base = serve(app)
    page.goto(base)
    assert page.locator("#followed").is_hidden()  # nothing followed yet: no panel
    page.click("#filters summary")
    page.fill("input[name=after]", "2000-01-01")
    question = "how much will Bird spend on its European expansion?"
    answer = _ask(page, question)
    assert "answer" in answer.get_attribute("class")
    follow = page.locator(".row.bot").first.locator("button.follow-button")  # under the answer
    assert follow.inner_text() == "Follow this question"
    app.config["SAVED_OPEN"] = False  # closed meanwhile: a polite error, the button stays
    follow.click()
    problem = page.locator(".follow .follow-error")
    assert problem.inner_text() == (
        "Could not follow it: This server no longer lets visitors follow questions."
    )
    assert follow.is_enabled() and store.all() == []
    app.config["SAVED_OPEN"] = True
    with page.expect_request(lambda r: r.url.endswith("/api/saved")) as request:
        follow.click()
    assert request.value.post_data_json == {
        "question": question,
        "filters": {"after": "2000-01-01"},
    }
    page.locator("button.follow-button", has_text="Following").wait_for()
    assert follow.is_disabled() and problem.count() == 0

    # The server keeps it; the panel lists it with its feed.
    [saved] = store.all()
    assert (saved.question, saved.filters) == (question, {"after": "2000-01-01"})
    listed = page.request.get(f"{base}/api/saved").json()["saved"]
    assert [s["id"] for s in listed] == [saved.id]
    panel = page.locator("#followed")
    assert panel.is_visible() and page.locator("#followed-count").inner_text() == "(1)"
    page.click("#followed summary")
    item = page.locator(".followed-item")
    assert item.count() == 1
    assert item.locator(".followed-q").inner_text() == question
    assert item.locator(".followed-filters").inner_text() == "after 1 Jan 2000"
    assert item.locator(".followed-change").inner_text() == "no change yet"
    feed = item.locator("a.feed")
    assert feed.inner_text() == "feed"
    assert feed.get_attribute("href") == f"/api/saved/{saved.id}/changes.atom"
    atom = page.request.get(base + feed.get_attribute("href"))
    assert atom.ok and atom.headers["content-type"].startswith("application/atom+xml")

    # A reload: still followed (the answer's button too).
    page.reload()
    page.click("#followed summary")
    page.locator(".followed-change", has_text="no change yet").wait_for()
    assert page.locator(".followed-q").all_inner_texts() == [question]
    assert page.locator("button.follow-button").inner_text() == "Following"

    # Two new generations answer differently: the latest change is shown after a reload.
    app.extensions["newsqa.saved_follower"].wait(10)  # no check of its own runs meanwhile
    _record(store, saved.id, "gen-000902", "$2.1 billion")
    _record(store, saved.id, "gen-000903", "$4.8 billion")
    when = datetime.strptime(store.changes(saved.id)[0].time[:10], "%Y-%m-%d")
    page.reload()
    page.click("#followed summary")
    change = page.locator(".followed-change.changed")
    change.wait_for()
    assert change.inner_text() == (
        f"answer changed: $2.1 billion → $4.8 billion, {when.day} {when:%b %Y}"
    )

    # Unfollow: the server forgets it, the list and the panel go, the button comes back.
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        page.locator(".followed-item button.unfollow").click()
    assert deleted.value.status == 200 and deleted.value.url.endswith(f"/api/saved/{saved.id}")
    page.locator("#followed").wait_for(state="hidden")
    assert page.locator(".followed-item").count() == 0 and store.all() == []
    assert page.locator("button.follow-button").inner_text() == "Follow this question"
    page.reload()
    assert page.locator(".followed-item").count() == 0
    assert page.evaluate("localStorage.getItem('newsqa.followed.v1')") == "[]"


def test_no_follow_button_where_saved_questions_need_the_token(page, serve, fake_index):
    base = serve(_fake_app(*fake_index, SAVED_OPEN=False))
    page.goto(base)
    answer = _ask(page, "how much will Bird spend on its European expansion?")
    assert "answer" in answer.get_attribute("class")
    assert page.locator("button.follow-button, .follow, #followed").count() == 0
    assert page.locator("body").get_attribute("data-saved-open") == "false"
