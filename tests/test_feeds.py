"""Feed subscriptions: `.feeds`, OPML, polite polling into item files, `qa feeds`, --watch.

Every feed is served by a local HTTP server started here (127.0.0.1, port 0): no outside
network. Limits are small and the clock is fake where time matters, so the file runs in seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from cli.main import cli
from index.build import build
from index.sources.feed_fetch import Limits, user_agent
from index.sources.feed_items import feed_folder, write_items
from index.sources.feed_state import MAX_BACKOFF, backoff, load_states
from index.sources.feeds import FeedPoller, parse_feed
from index.sources.formats import read_file
from index.sources.subscriptions import (
    SubscriptionError,
    add_subscription,
    read_opml,
    read_subscriptions,
    remove_subscription,
    subscriptions_path,
)
from index.store import load_index
from qa.pipeline import Answerer

DATA = Path(__file__).parent / "data" / "feeds"
NEWS = (DATA / "news.rss").read_bytes()
UPDATED = (DATA / "news-updated.rss").read_bytes()
MUSEUM = "Lighthouse keeper's cottage becomes a tide museum"
FERRY = "Ferry timetable adds a late sailing on Fridays"
SEAL = "Seal pup rescued from the marina is released at Otter Bay"
FAST = Limits(timeout=1.0, total=5.0, max_bytes=256 * 1024, max_redirects=5)
HUGE = 50 * 1024 * 1024
START = 1_750_000_000.0  # the fake clock's first reading (Unix seconds)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class FeedServer:
    """A local HTTP server whose paths behave as a test says; it records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.huge_sent = 0
        self.huge_done = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                try:
                    if route is None:
                        self.send_error(404)
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the poller gave up on this answer, as it should

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def count(self, path: str) -> int:
        return sum(p == path for p, _ in self.requests)

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


def feed(body: bytes, etag: str = '"v1"', modified: str = "Mon, 07 Apr 2025 09:00:00 GMT"):
    """A route serving a feed with validators, answering 304 to a matching conditional GET."""

    def route(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", modified)
        h.end_headers()
        h.wfile.write(body)

    return route


def status(code: int, headers: dict[str, str] | None = None):
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(code)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def slow(seconds: float):
    def route(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        feed(NEWS)(h)

    return route


def html(h: BaseHTTPRequestHandler) -> None:
    body = (DATA / "page.html").read_bytes()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def loop(h: BaseHTTPRequestHandler) -> None:
    h.send_response(302)
    h.send_header("Location", h.path)
    h.send_header("Content-Length", "0")
    h.end_headers()


def huge(server: FeedServer):
    """A route streaming 50 MB of feed-looking XML with no length; it counts what it sent."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        chunk = b"<item><title>x</title></item>\n" * 2048  # ~62 KB
        try:
            h.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            while server.huge_sent < HUGE:
                h.wfile.write(chunk)
                server.huge_sent += len(chunk)
        finally:
            server.huge_done.set()

    return route


@pytest.fixture
def server():
    srv = FeedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


def item_files(seeds: Path) -> list[Path]:
    return sorted(p for p in (seeds / "feeds").rglob("*") if p.is_file())


# --- polling into item files, and a build that answers from them ---


def test_a_polled_feed_becomes_item_files_that_a_build_answers_from(
    server, seeds, tmp_path, fake_embedder
):
    server.routes["/news.xml"] = feed(NEWS)
    url = server.url("/news.xml")
    assert add_subscription(seeds, url)
    clock = Clock()
    poller = FeedPoller(seeds, interval=900, limits=FAST, clock=clock)
    (result,) = poller.poll()
    assert result.outcome == "items" and result.written.new == 2
    assert result.describe() == f"{url}: 2 new items"
    files = item_files(seeds)
    assert len(files) == 2 and all(f.parent == feed_folder(seeds, url) for f in files)
    assert not [p for p in seeds.rglob(".*.tmp")]  # written through hidden temp files
    assert server.headers_of("/news.xml")[0]["User-Agent"] == user_agent()
    assert user_agent().startswith("newsqa/") and "docs/feeds.md" in user_agent()

    ix = tmp_path / "ix"
    report = build(seeds, ix, fake_embedder)
    assert not report.skipped
    index = load_index(ix)
    by_title = {a.title: a for a in index.articles.values()}
    assert set(by_title) == {MUSEUM, FERRY}
    museum, ferry = by_title[MUSEUM], by_title[FERRY]
    assert museum.id.startswith("feeds/") and museum.author == "Oona Brightwater"
    assert museum.url == "https://harbourside.example/2025/04/tide-museum"
    assert museum.date.isoformat() == "2025-04-07T08:15:00+00:00"
    assert "brass tide clock built in 1871" in museum.text  # the full content, not the summary
    assert "leaves at 23:40 on Fridays" in ferry.text  # a summary-only item keeps its summary

    # The feed gains an item: the next poll (once due) writes just that one.
    server.routes["/news.xml"] = feed(UPDATED, etag='"v2"')
    clock.now += 900
    (result,) = poller.poll()
    assert (result.written.new, result.written.changed, result.written.unchanged) == (1, 0, 2)
    second = build(seeds, ix, fake_embedder)
    (added,) = second.added
    assert load_index(ix).articles[added].title == SEAL
    answerer = Answerer(load_index(ix), fake_embedder, rerank=False, read=False)
    answer = answerer.ask("What did volunteers name the seal pup released at Otter Bay?", k=3)
    assert answer.citations[0].title == SEAL


def test_a_second_poll_is_conditional_and_a_304_parses_nothing(server, seeds, monkeypatch):
    server.routes["/news.xml"] = feed(NEWS)
    add_subscription(seeds, server.url("/news.xml"))
    clock = Clock()
    poller = FeedPoller(seeds, interval=600, limits=FAST, clock=clock)
    poller.poll()
    written = {p: p.stat().st_mtime_ns for p in item_files(seeds)}
    parses = []
    real = feedparser.parse
    monkeypatch.setattr(feedparser, "parse", lambda *a, **k: parses.append(a) or real(*a, **k))
    clock.now += 600
    (result,) = poller.poll()
    assert result.outcome == "not modified" and parses == []
    first, second = server.headers_of("/news.xml")
    assert "If-None-Match" not in first and "If-Modified-Since" not in first
    assert second["If-None-Match"] == '"v1"'
    assert second["If-Modified-Since"] == "Mon, 07 Apr 2025 09:00:00 GMT"
    assert {p: p.stat().st_mtime_ns for p in item_files(seeds)} == written
    state = load_states(seeds)[server.url("/news.xml")]
    assert (state.etag, state.failures, state.last_poll) == ('"v1"', 0, clock.now)


def test_failing_feeds_are_reported_and_skipped_while_a_good_one_gets_its_items(server, seeds):
    server.routes.update(
        {
            "/slow.xml": slow(4.0),
            "/error.xml": status(500),
            "/page.xml": html,
            "/loop.xml": loop,
            "/huge.xml": huge(server),
            "/news.xml": feed(NEWS),
        }
    )
    for path in ("/slow.xml", "/error.xml", "/page.xml", "/loop.xml", "/huge.xml", "/news.xml"):
        add_subscription(seeds, server.url(path))
    started = time.monotonic()
    results = {r.url.rsplit("/", 1)[1]: r for r in FeedPoller(seeds, limits=FAST).poll()}
    took = time.monotonic() - started
    reasons = {name: r.reason for name, r in results.items() if r.outcome == "failed"}
    assert reasons == {
        "slow.xml": "timed out (no answer within 1 s)",
        "error.xml": "HTTP 500 Internal Server Error",
        "page.xml": "an HTML page, not a feed",
        "loop.xml": "more than 5 redirects (a redirect loop?)",
        "huge.xml": "too large (over 262,144 bytes): stopped reading",
    }
    assert results["news.xml"].outcome == "items" and results["news.xml"].written.new == 2
    assert server.count("/loop.xml") == 6  # the first request and five redirects
    assert server.huge_done.wait(10)
    # What it sent past the 256 KB read sat in the two sockets' buffers when the poller hung up.
    assert server.huge_sent < HUGE / 3, f"the server sent {server.huge_sent:,} bytes"
    assert took < 4.0  # the slow feed cost its timeout, not its four seconds
    line = results["error.xml"].describe()
    assert line.endswith("failed: HTTP 500 Internal Server Error (next try in 15 min)")
    states = load_states(seeds)
    assert {url.rsplit("/", 1)[1]: s.failures for url, s in states.items()} == {
        "slow.xml": 1,
        "error.xml": 1,
        "page.xml": 1,
        "loop.xml": 1,
        "huge.xml": 1,
        "news.xml": 0,
    }
    assert len(item_files(seeds)) == 2


def test_back_off_grows_and_no_feed_is_asked_before_it_is_due(server, seeds):
    server.routes["/error.xml"] = status(503)
    server.routes["/news.xml"] = feed(NEWS)
    error, news = server.url("/error.xml"), server.url("/news.xml")
    add_subscription(seeds, error)
    add_subscription(seeds, news, interval=600)
    clock = Clock()
    poller = FeedPoller(seeds, interval=100, limits=FAST, clock=clock)
    asked = []
    for step in (0, 50, 50, 150, 100, 100, 400):  # seconds the clock moves before each poll
        clock.now += step
        poller.poll()
        asked.append((server.count("/error.xml"), server.count("/news.xml")))
    # error.xml waits 100, 200, 400 s after its 1st, 2nd, 3rd failure; news.xml its 600 s.
    assert asked == [(1, 1), (1, 1), (2, 1), (2, 1), (3, 1), (3, 1), (4, 2)]
    state = load_states(seeds)[error]
    assert (state.failures, state.error) == (4, "HTTP 503 Service Unavailable")
    assert state.due(100) == clock.now + 800
    assert [backoff(900, n) for n in range(6)] == [900, 900, 1800, 3600, 7200, 14400]
    assert backoff(900, 50) == MAX_BACKOFF and backoff(3 * MAX_BACKOFF, 9) == 3 * MAX_BACKOFF
    # A server's Retry-After is honoured when it asks for longer than the back-off.
    server.routes["/error.xml"] = status(503, {"Retry-After": "5000"})
    clock.now += 800
    (failed, _) = poller.poll()
    assert failed.next_poll == clock.now + 5000
    # A success clears the failures: the next poll comes one interval later.
    server.routes["/error.xml"] = feed(NEWS)
    clock.now += 5000
    (ok, _) = poller.poll()
    assert ok.outcome == "items" and ok.next_poll == clock.now + 100


@pytest.mark.parametrize("name", ["city-desk.rss", "science-wire.atom"])
def test_item_files_read_back_as_the_feeds_own_articles(name, tmp_path):
    raw = (Path(__file__).parent / "data" / "formats" / name).read_bytes()
    url = f"https://wire.example/{name}"

    def fields(articles):
        return sorted((a.title, a.date, a.author, a.url, a.text) for a in articles)

    written = write_items(tmp_path, parse_feed(raw, url), url)
    assert (written.new, written.changed) == (2, 0)
    files = sorted(tmp_path.glob("*.xml"))
    back = [a for f in files for a in read_file(f.read_bytes(), str(f), f.stem).articles]
    assert fields(back) == fields(read_file(raw, name, "direct").articles)
    assert {f.stem for f in files} == {a.item for a in back}  # one file per item, named alike
    # An item edited at the source (same guid, new text) replaces its file; the rest stay.
    edited = raw.replace(b"2027", b"2028") if b"2027" in raw else raw.replace(b"1.2", b"1.3", 1)
    assert edited != raw
    again = write_items(tmp_path, parse_feed(edited, url), url)
    assert (again.new, again.changed, again.unchanged) == (0, 1, 1)


# --- the subscriptions file and OPML ---


def test_the_subscriptions_file_is_human_editable(seeds):
    subscriptions_path(seeds).write_text(
        "# my feeds\n\n"
        "https://a.example/rss   interval=3600   # hourly is plenty\n"
        "  https://b.example/feed.xml#frag\n"
        "# https://c.example/rss (paused)\n"
    )
    subs = read_subscriptions(seeds)
    assert [(s.url, s.interval) for s in subs] == [
        ("https://a.example/rss", 3600),
        ("https://b.example/feed.xml#frag", None),
    ]
    assert add_subscription(seeds, "https://d.example/atom") is True
    assert add_subscription(seeds, "HTTPS://A.example/rss") is False  # the same feed
    assert remove_subscription(seeds, "https://b.example/feed.xml#frag") is True
    text = subscriptions_path(seeds).read_text()
    assert text.startswith("# my feeds\n") and "# hourly is plenty" in text  # comments kept
    assert "# https://c.example/rss (paused)" in text and "b.example" not in text
    assert [s.url for s in read_subscriptions(seeds)][-1] == "https://d.example/atom"
    subscriptions_path(seeds).write_text("https://a.example/rss every=5\n")
    with pytest.raises(SubscriptionError, match=r"\.feeds:1: unknown option 'every=5'"):
        read_subscriptions(seeds)
    for bad in ("ftp://x.example/rss", "file:///etc/passwd", "feeds.example/rss", "http://"):
        with pytest.raises(SubscriptionError, match="not an http:// or https:// URL"):
            add_subscription(seeds, bad)


def test_the_poller_thread_says_a_broken_line_once_and_stops_when_asked(seeds, monkeypatch):
    import index.sources.feeds as feeds

    monkeypatch.setattr(feeds, "IDLE", 0.02)  # look again every 20 ms, not every minute
    subscriptions_path(seeds).write_text("harbourside.example/feed.xml\n")
    lines, stop = [], threading.Event()
    thread = threading.Thread(target=FeedPoller(seeds).run, args=(stop, lines.append))
    thread.start()
    time.sleep(0.3)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    (line,) = lines
    assert line.startswith("feeds: ") and ".feeds:1: 'harbourside.example/feed.xml' is not" in line


def test_opml_import_takes_nested_outlines_once(seeds):
    raw = (DATA / "subscriptions.opml").read_bytes()
    assert len(read_opml(raw)) == 6
    runner = CliRunner()
    args = ["feeds", "import", str(DATA / "subscriptions.opml"), "--seeds", str(seeds)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "4 feeds added, 1 already subscribed, 1 skipped" in result.output
    assert "gopher://old.example/feed" in result.output  # named, with why
    assert [s.url for s in read_subscriptions(seeds)] == [
        "https://harbourside.example/feed.xml",
        "https://skerry.example/rss",
        "https://sciencewire.example/atom.xml",
        "http://toplevel.example/index.rss",
    ]
    again = runner.invoke(cli, args)
    assert "0 feeds added, 5 already subscribed, 1 skipped" in again.output
    bomb = b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>'
    with pytest.raises(SubscriptionError, match="DOCTYPE"):
        read_opml(bomb)
    with pytest.raises(SubscriptionError, match="not an OPML file"):
        read_opml(NEWS)


# --- qa feeds, and --watch ---


def test_qa_feeds_add_list_poll_remove(server, seeds):
    server.routes["/news.xml"] = feed(NEWS)
    server.routes["/error.xml"] = status(500)
    news, error = server.url("/news.xml"), server.url("/error.xml")
    runner = CliRunner()

    def qa(*args: str):
        return runner.invoke(cli, ["feeds", *args, "--seeds", str(seeds)], obj={})

    result = qa("add", news)
    assert result.exit_code == 0 and f"subscribed to {news}" in result.output
    assert "already subscribed" in qa("add", news).output
    assert qa("add", error, "--interval", "3600").exit_code == 0
    bad = qa("add", "ftp://files.example/feed")
    assert bad.exit_code == 2 and "not an http:// or https:// URL" in bad.output
    assert qa("add", news, "--interval", "5").exit_code == 2  # below the 60 s floor
    listing = qa("list").output.splitlines()
    assert listing == [
        f"{news}  every 15 min  never polled (due now)",
        f"{error}  every 1 h  never polled (due now)",
    ]
    polled = qa("poll").output.splitlines()
    assert polled == [
        f"{news}: 2 new items",
        f"{error}: failed: HTTP 500 Internal Server Error (next try in 1 h)",
    ]
    assert qa("poll").output.splitlines() == [  # nothing is due: no request
        f"{news}: not due (next poll in 15 min)",
        f"{error}: not due (next poll in 1 h)",
    ]
    assert server.count("/news.xml") == server.count("/error.xml") == 1
    listing = qa("list").output
    assert "failing (1x): HTTP 500 Internal Server Error" in listing
    assert qa("remove", error).output == f"unsubscribed from {error}\n"
    gone = qa("remove", error)
    assert gone.exit_code == 2 and "not subscribed" in gone.output
    assert [s.url for s in read_subscriptions(seeds)] == [news]


def test_qa_index_watch_polls_the_feeds_and_indexes_their_items(
    server, seeds, tmp_path, fake_embedder
):
    server.routes["/news.xml"] = feed(NEWS)
    (seeds / "note.txt").write_text("Harbour notes\n\nThe tide gauge was recalibrated in March.\n")
    add_subscription(seeds, server.url("/news.xml"))
    ix, stop, results = tmp_path / "ix", threading.Event(), []
    obj = {"embedder": fake_embedder, "watch_stop": stop, "feed_limits": FAST}
    args = ["index", "--seeds", str(seeds), "--index", str(ix), "--watch", "-q"]
    runner = threading.Thread(target=lambda: results.append(CliRunner().invoke(cli, args, obj=obj)))
    runner.start()
    deadline, titles = time.monotonic() + 8, set()  # under the watcher's 10 s STALL
    while time.monotonic() < deadline and MUSEUM not in titles:
        time.sleep(0.1)
        if (ix / "current").exists():
            titles = {a.title for a in load_index(ix).articles.values()}
    stop.set()
    runner.join(10)
    (result,) = results
    assert result.exit_code == 0, result.output
    assert {MUSEUM, FERRY} <= titles, result.output
    assert f"feed {server.url('/news.xml')}: 2 new items" in result.output
