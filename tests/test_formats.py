"""Every article format in one seeds folder: feeds, saved pages, exports, text (fake embedder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from cli.main import cli
from index.build import build
from index.errors import ArticleError
from index.legacy import article_from_row
from index.sources.formats import detect, read_file
from index.store import load_index
from qa.pipeline import Answerer

FORMATS = Path(__file__).parent / "data" / "formats"
BROKEN = Path(__file__).parent / "data" / "formats-broken"
SEED = "BeyondTheBitcoinBubble.txt"

# One question per article, and the metadata its citation must carry:
# (question, title, date, author, url)
EXPECTED = [
    (
        "How many passengers will each Bayline electric catamaran carry?",
        "Ferry operator orders two electric catamarans for the harbour crossing",
        "2025-03-04T09:30:00+00:00",
        "Maren Oduya",
        "https://northbaycourier.example/city/2025/03/04/electric-catamarans",
    ),
    (
        "How many stalls will the Quay Street night market have?",
        "Night market returns to Quay Street after three-year pause",
        "2025-03-02T17:05:00+00:00",
        "Tomas Reyland",
        "https://northbaycourier.example/city/2025/03/02/night-market-returns",
    ),
    (
        "How old is the ice core recovered at Little Dome C?",
        "Glacier drilling team recovers 1.2-million-year-old ice core",
        "2025-02-19T08:00:00+00:00",
        "Priya Santhanam",
        "https://sciencewire.example/2025/02/ice-core",
    ),
    (
        "Who discovered the supernova in NGC 4414?",
        "Amateur astronomer spots supernova in nearby spiral galaxy",
        "2025-02-14T20:40:00+00:00",
        "Jonas Feldkamp",
        "https://sciencewire.example/2025/02/supernova",
    ),
    (
        "When will the harbour tunnel open to traffic?",
        "Harbour tunnel boring machine breaks through a year early",
        "2025-01-17T07:45:00+00:00",
        "Grete Lindqvist",
        "https://northbaycourier.example/city/2025/01/harbour-tunnel-breakthrough",
    ),
    (
        "What dividend did the Hollerbach solar cooperative pay its members?",
        "Villagers' solar cooperative pays its first dividend",
        "2024-09-05T16:00:00+02:00",
        "Katrin Obermeier",
        "https://valleygazette.example/news/solar-cooperative-dividend",
    ),
    (
        "How much did the Eastern Maritime Museum rebuild cost?",
        "Maritime museum reopens after four-year rebuild",
        "2024-06-21T10:00:00+01:00",
        "Idris Cadwallader",
        "https://easternledger.example/culture/maritime-museum-reopens",
    ),
    (
        "What pay rise did the Rail and Maritime Union accept?",
        "Rail union accepts pay offer ending month of strikes",
        "2025-01-28T14:20:00+00:00",
        "Dana Kowalczyk",
        "https://wireexport.example/rail-pay-offer",
    ),
    (
        "How many rye loaves did Korn & Kruste recall?",
        "Bakery chain recalls rye loaves over foil fragments",
        "2025-01-29T00:00:00+00:00",
        "Leo Marchetti",
        "https://wireexport.example/rye-recall",
    ),
    (
        "How large is the new mirror at the Mount Kerrow observatory?",
        "Observatory on Mount Kerrow gets a new 4-metre mirror",
        "2024-11-12T00:00:00+00:00",
        "Hana Ishikawa",
        "https://newsroom.example/kerrow-mirror",
    ),
    (
        "How many tools does the Wexmoor library lend?",
        "Town library lends out sewing machines and drills",
        "2024-11-15T00:00:00+00:00",
        "Ben Achterberg",
        "https://newsroom.example/library-of-things",
    ),
    (
        "How many street trees did the council vote to plant?",
        "Council votes to plant 3,000 street trees by 2028",
        "2024-12-10T18:30:00+00:00",
        "Ruth Amankwah",
        "https://eastgate-herald.example/council-street-trees",
    ),
    (
        "What did the lighthouse keeper's cottage on Skerry Holm sell for?",
        "Lighthouse keeper's cottage on Skerry Holm sold at auction",
        None,
        "",
        "",
    ),
    (
        "Where is Bitcoin important according to Jon Evans?",
        "Beyond The Bitcoin Bubble",
        "2013-04-13T13:00:36+00:00",
        "Jon Evans",
        "http://feedproxy.google.com/~r/Techcrunch/~3/RSk6cKxXP1o/",  # its "posted here" link
    ),
]

# Each saved page: words of its paragraphs that must be kept, and the page furniture
# (menus, banners, ads, related boxes, comments, footers) that must not be.
PAGES = {
    "harbour-tunnel.html": (
        ["nicknamed Matilda", "42,000 vehicles a day", "96 million euros"],
        [
            "Accept all cookies",
            "Business and Markets",
            "Subscribe for 1 pound",
            "Switch your energy supplier",
            "Related stories",
            "Tunnel costs rise by a fifth",
            "tolls will be outrageous",
            "nobody asked us",
            "Copyright 2025",
            "Privacy policy",
        ],
    ),
    "solar-cooperative.html": (
        ["412 members", "1.9-megawatt array", "battery store next to the sports ground"],
        [
            "This site uses cookies",
            "What's on this weekend",
            "Sign in to your account",
            "Share on Facebook",
            "Most read",
            "morning newsletter",
            "Well done Hollerbach",
            "after twenty years",
            "Leave a reply",
            "Talpresse GmbH",
        ],
    ),
    "museum-reopens.html": (
        ["27 million pounds", "herring drifter Lydia Ellen", "8 pm on Thursdays"],
        [
            "Crosswords and puzzles",
            "Opinion and letters",
            "214 partners",
            "More on this story",
            "escaped the scrapyard",
            "queue went round the block",
            "Advertise with us",
        ],
    ),
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A seeds folder mixing a seed, RSS, Atom, three pages, JSONL, CSV, Markdown and text."""
    folder = tmp_path / "mixed"
    shutil.copytree(FORMATS, folder)
    shutil.copy(SEEDS / SEED, folder / SEED)
    return folder


def test_format_is_chosen_by_content(tmp_path):
    kinds = {
        "city-desk.rss": "feed",
        "science-wire.atom": "feed",
        "pages/harbour-tunnel.html": "page",
        "wire-export.jsonl": "jsonl",
        "newsroom-export.csv": "csv",
        "council-notes.md": "text",
        "radio-transcript.txt": "text",
    }
    for name, kind in kinds.items():
        text = (FORMATS / name).read_text()
        assert detect(text, name) == kind, name
        assert detect(text, "no-extension") == kind, name  # content decides, not the name
    assert detect((SEEDS / SEED).read_text(), SEED) == "seed"
    # A first line holding commas and the words "title" and "text" is still prose.
    assert detect("Publisher changes title, text of its guide\n\nThe body.", "a.txt") == "text"
    sitemap = '<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>'
    with pytest.raises(ArticleError, match="not a readable feed"):
        read_file(sitemap.encode(), "sitemap.xml", "sitemap")


def test_mixed_folder_indexes_in_one_run_and_answers(mixed, tmp_path, fake_embedder):
    ix = tmp_path / "ix"
    result = CliRunner().invoke(
        cli,
        ["index", "--seeds", str(mixed), "--index", str(ix), "--json"],
        obj={"embedder": fake_embedder},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["articles"] == len(EXPECTED) and report["skipped"] == []
    answerer = Answerer(load_index(ix), fake_embedder, rerank=False, read=False)
    for question, title, date, author, url in EXPECTED:
        answer = answerer.ask(question, k=3)
        assert answer.citations, question
        top = answer.citations[0]
        assert (top.title, top.date, top.author, top.url) == (title, date, author, url), question


@pytest.mark.model
def test_mixed_folder_answers_with_the_real_models(mixed, tmp_path, real_embedder, reranker):
    build(mixed, tmp_path / "ix", real_embedder)
    answerer = Answerer.open(tmp_path / "ix", real_embedder, reranker=reranker)
    for question, title, date, author, url in EXPECTED:
        top = answerer.ask(question, k=3).citations[0]
        assert (top.title, top.date, top.author, top.url) == (title, date, author, url), question


def test_saved_pages_keep_the_article_and_drop_the_furniture():
    for name, (kept, dropped) in PAGES.items():
        path = FORMATS / "pages" / name
        (article,) = read_file(path.read_bytes(), str(path), path.stem).articles
        assert len(article.text.split("\n\n")) >= 3, name  # paragraphs stay paragraphs
        for words in kept:
            assert words in article.text, (name, words)
        for words in dropped:
            assert words not in article.text, (name, words)
        assert not article.text.startswith(article.title)  # the headline is not body text


def test_broken_files_are_named_with_their_reason(tmp_path, fake_embedder):
    folder = tmp_path / "seeds"
    shutil.copytree(BROKEN, folder)
    shutil.copy(SEEDS / SEED, folder / SEED)
    report = build(folder, tmp_path / "ix", fake_embedder)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "unreadable date 'the thirty-second of Smarch'" in reasons.pop(
        next(n for n in reasons if n.startswith("bad-date.rss#council-postponed"))
    )
    assert reasons == {
        "no-article.html": "no article body found in the page",
        "missing-column.csv": "missing column title and text or html "
        "(found: headline, link, published, writer)",
    }
    assert report.added == ("BeyondTheBitcoinBubble",)


def _feed(items: list[tuple[str, str]]) -> str:
    """An RSS feed of (guid, sentence) items."""
    body = "".join(
        f"<item><title>Story {guid}</title><guid>{guid}</guid>"
        f"<link>https://feed.example/{guid}</link><pubDate>Mon, 06 Jan 2025 10:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;{text}&lt;/p&gt;</description></item>"
        for guid, text in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{body}</channel></rss>'
    )


ITEMS = [
    ("one", "The harbour crane lifted a record load of 900 tonnes on Monday morning."),
    (
        "two",
        "A new bakery opened in the old fire station with a queue of two hundred people. "
        "The owners, two sisters from Lyon, bake sourdough in the former engine bay. "
        "They kept the brass fire pole, which now stands between the counter and the ovens.",
    ),
]
NEW = ("three", "Volunteers counted 4,112 migrating toads crossing the reservoir road this spring.")


def test_a_feed_that_gains_an_item_embeds_only_that_item(tmp_path, fake_embedder):
    seeds, ix = tmp_path / "seeds", tmp_path / "ix"
    seeds.mkdir()
    (seeds / "local.xml").write_text(_feed(ITEMS))
    first = build(seeds, ix, fake_embedder)
    assert len(first.added) == 2 and all(a.startswith("local/") for a in first.added)
    (seeds / "local.xml").write_text(_feed([*ITEMS, NEW]))
    seen = fake_embedder.texts_seen
    second = build(seeds, ix, fake_embedder)
    index = load_index(ix)
    (new_id,) = second.added
    assert new_id.startswith("local/three-") and sorted(second.unchanged) == sorted(first.added)
    new_chunks = [c for c in index.chunks if c.article_id == new_id]
    assert second.embedded == fake_embedder.texts_seen - seen == len(new_chunks) == 1
    third = build(seeds, ix, fake_embedder, full=True)  # ids do not depend on the build
    assert sorted(third.added) == sorted(index.articles)


def test_syndicated_copies_are_indexed_once(tmp_path, fake_embedder):
    seeds, ix = tmp_path / "seeds", tmp_path / "ix"
    seeds.mkdir()
    (seeds / "a-wire.xml").write_text(_feed(ITEMS))
    # The same first story through a second feed (same link), and the second one reposted
    # under another link with a credit line added: both are copies.
    copy = _feed([ITEMS[0], ("elsewhere", ITEMS[1][1] + " Reporting by the wire.")])
    (seeds / "b-local.xml").write_text(copy.replace("feed.example/elsewhere", "other.example/x"))
    report = build(seeds, ix, fake_embedder)
    index = load_index(ix)
    assert len(index.articles) == 2
    crane = next(a for a in index.articles.values() if "crane" in a.text)
    bakery = next(a for a in index.articles.values() if "bakery" in a.text)
    assert crane.also_published_at == (crane.id.replace("a-wire/", "b-local/"),)
    assert bakery.also_published_at == ("https://feed.example/two",)  # the shorter copy went
    assert bakery.id.startswith("b-local/")  # the longest text is kept
    assert sum("syndicated copy" in s.reason for s in report.skipped) == 2
    from web import create_app

    app = create_app({"RERANK": False, "READ": False, "INDEX_DIR": str(ix)}, embedder=fake_embedder)
    body = app.test_client().get(f"/api/articles/{bakery.id}").get_json()
    assert body["also_published_at"] == ["https://feed.example/two"]
    assert body["title"] == bakery.title  # the rest of the answer is as before


def test_an_index_written_before_the_new_fields_still_loads():
    row = {
        "id": "a",
        "path": "/s/a.txt",
        "title": "T",
        "date": None,
        "author": "",
        "url": "",
        "text": "x",
        "content_hash": "h",
    }
    article = article_from_row(row)
    assert (article.item, article.source_hash, article.also_published_at) == ("", "", ())


def test_every_format_keeps_the_element_limit():
    from index.articles import MAX_ELEMENTS

    page = "<!DOCTYPE html><html><body>" + "<i>x</i>" * (MAX_ELEMENTS + 1) + "</body></html>"
    feed = '<rss version="2.0"><channel>' + "<i/>" * (MAX_ELEMENTS + 1) + "</channel></rss>"
    for name, text in (("big.html", page), ("big.xml", feed)):
        with pytest.raises(ArticleError, match="too many HTML elements"):
            read_file(text.encode(), name, "big")
