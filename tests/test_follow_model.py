"""Following the news end to end, with the real models: a subscribed feed served locally gains
an item that changes the answer to a saved question, and the change reaches its Atom feed
within one poll and one rebuild; an unrelated item changes nothing."""

from __future__ import annotations

import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest

from index.build import build
from index.sources.feeds import FeedPoller
from index.sources.subscriptions import add_subscription
from tests.conftest import SEEDS, TINY
from web import create_app

pytestmark = pytest.mark.model

QUESTION = "How much is Quillfeather valued at?"
ITEMS = {
    "2018": (
        "Quillfeather valued at $2.1 billion after Tarrant Peak round",
        "Tue, 03 Apr 2018 09:15:00 +0000",
        "Quillfeather, the start-up behind the note-taking app of the same name, is now valued "
        "at $2.1 billion after closing a funding round led by the growth fund Tarrant Peak. "
        "The company said the money would pay for a larger sales team in Europe.",
    ),
    "2019": (
        "Quillfeather now worth $4.8 billion after fresh round",
        "Wed, 12 Jun 2019 10:30:00 +0000",
        "Quillfeather, the note-taking app maker, has raised fresh funding that values the "
        "company at $4.8 billion, as demand for its business edition grows faster than the "
        "company expected. The round was led by Caddon Group.",
    ),
    "ferry": (
        "Ferry timetable adds a late sailing on Fridays",
        "Thu, 13 Jun 2019 08:00:00 +0000",
        "The harbour ferry will add a late sailing on Fridays from next month, the operator "
        "said, after passengers asked for a way home after evening concerts in the old town.",
    ),
}


def _rss(keys: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://news.test/{k}</link><guid>news-{k}</guid>"
        f"<pubDate>{d}</pubDate><description>{body}</description></item>"
        for k in keys
        for t, d, body in [ITEMS[k]]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>News</title><link>https://news.test/</link>{items}</channel></rss>"
    ).encode()


class Feed:
    """A local feed whose items the test changes."""

    def __init__(self) -> None:
        self.body = _rss(["2018"])
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/feed.xml"


def test_a_feed_item_that_changes_a_saved_answer_reaches_its_atom_feed(tmp_path, real_embedder):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for name in TINY:
        shutil.copy(SEEDS / name, seeds / name)
    feed = Feed()
    now = [1_750_000_000.0]
    add_subscription(seeds, feed.url, interval=60)
    poller = FeedPoller(seeds, interval=60, clock=lambda: now[0])
    assert [r.outcome for r in poller.poll()] == ["items"]
    build(seeds, index_dir, real_embedder)
    app = create_app(
        {"INDEX_DIR": str(index_dir), "SEEDS_DIR": str(seeds), "SAVED_OPEN": True},
        embedder=real_embedder,
    )
    client = app.test_client()
    saved = client.post("/api/saved", json={"question": QUESTION})
    assert saved.status_code == 201, saved.get_json()
    atom_url = saved.get_json()["feed"]
    source, follower = app.extensions["newsqa.index"], app.extensions["newsqa.saved_follower"]

    def deliver(keys: list[str]) -> float:
        """The feed changes; one poll interval later: a poll, a rebuild, the check."""
        feed.body = _rss(keys)
        started = time.perf_counter()
        now[0] += 60
        assert [r.outcome for r in poller.poll()] == ["items"]
        build(seeds, index_dir, real_embedder)
        source.refresh()  # what a server does at its next look at `current` (1 s)
        assert follower.wait(300)
        return time.perf_counter() - started

    took = deliver(["2018", "2019"])
    parsed = feedparser.parse(client.get(atom_url).data)
    assert parsed.bozo == 0 and len(parsed.entries) == 1
    entry = parsed.entries[0]
    assert "$2.1 billion" in entry.title and "$4.8 billion" in entry.title
    print(f"feed updated -> change in the Atom feed: {took:.1f} s (poll + rebuild + check)")

    deliver(["2018", "2019", "ferry"])  # unrelated: the answer stays $4.8 billion
    assert len(feedparser.parse(client.get(atom_url).data).entries) == 1
    changes = client.get(saved.get_json()["changes"]).get_json()
    assert len(changes["changes"]) == 1, changes
