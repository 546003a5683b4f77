"""The article parser on real files and on hand-made broken ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import ALIYUN, SEEDS, TINY

from index.articles import MAX_FILE_BYTES, parse_article, read_article
from index.errors import ArticleError

BODY = b"<p>Acme Inc. raised US$5 million &amp; more.</p>"


def test_real_article_metadata():
    article = read_article(SEEDS / ALIYUN)
    assert article.title.startswith("Chinese Ecommerce Giant Alibaba Spins Off Aliyun")
    assert article.author == "Natasha Lomas"
    assert article.date == datetime(2012, 9, 21, 13, 12, 49, tzinfo=UTC)
    assert article.url == "http://feedproxy.google.com/~r/Techcrunch/~3/Vx99woWvMMk/"
    assert article.id == ALIYUN.removesuffix(".txt")
    assert len(article.content_hash) == 64


def test_real_article_text_is_clean():
    text = read_article(SEEDS / ALIYUN).text
    assert "The company will invest US$200 million into the Aliyun OS business" in text
    assert "Mountain View’s main beef" in text  # &#8217; decoded
    assert "open source club — more" in text  # &#8212; decoded
    assert "After two years of hard work" in text  # blockquote kept
    for noise in ("<img", "<p>", "&#8217;", "original article was posted", "alibaba.png", "href"):
        assert noise not in text
    assert text.endswith("not making an official comment on the move at this time.")


def test_share_links_and_tracking_pixels_dropped():
    article = read_article(SEEDS / "Birdtospend150milliononEuropeanexpansionplan.txt")
    assert "feedburner" not in article.text
    assert article.url == "http://feedproxy.google.com/~r/Techcrunch/~3/EqeGTrnZEYs/"
    assert "Sequoia Capital and Valor Equity Partners." in article.text


def test_every_default_seed_parses():
    paths = sorted(SEEDS.glob("*.txt"))
    # The glob must find the default corpus, or the loop below proves nothing.
    assert set(TINY) <= {p.name for p in paths}, f"seeds missing from {SEEDS}"
    for path in paths:
        article = read_article(path)
        assert article.text and article.title and article.url.startswith("http"), path
        assert "<" not in article.text or "<" in path.read_text(), path


@pytest.mark.parametrize(
    "header",
    [
        b'{"title": "T", "date": "Fri, 21 Sep 2012 13:12:49 +0000", "author": "A",}',
        b'\xef\xbb\xbf{"title": "T", "date": "Fri, 21 Sep 2012 13:12:49 +0000", "author": "A"}',
        b'{\r\n"title" : "T",\r\n"date" : "Fri, 21 Sep 2012 13:12:49 +0000",\r\n"author":"A"\r\n}',
    ],
    ids=["trailing-comma", "bom", "crlf"],
)
def test_header_tolerance(header):
    article = parse_article(header + b"\r\n\r\n" + BODY, "x.txt", "x")
    assert (article.title, article.author, article.date.year) == ("T", "A", 2012)
    assert article.text == "Acme Inc. raised US$5 million & more."


def test_missing_keys_fall_back():
    article = parse_article(b"{}\n" + BODY, "seeds/some-story.txt", "some-story")
    assert article.title == "some-story"
    assert article.author == "" and article.date is None and article.url == ""


def test_brace_inside_title():
    article = parse_article(b'{"title": "a } b"}\n' + BODY, "x.txt", "x")
    assert article.title == "a } b"


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b'{"title": "caf\xe9"}\n<p>x</p>', "UTF-8"),
        (b'{"title": "T", "date": }\n<p>x</p>', "JSON header"),
        (b"<p>no header at all</p>", "JSON header"),
        (b'{"title": "T"}\n<img src="x.png"><script>alert(1)</script>', "no body text"),
        (b"{}" + b"x" * (MAX_FILE_BYTES + 1), "too large"),
    ],
    ids=["empty", "binary", "latin1", "broken-json", "no-header", "no-body", "huge"],
)
def test_bad_files_raise_article_error(raw, reason):
    with pytest.raises(ArticleError, match=reason) as info:
        parse_article(raw, "bad.txt", "bad")
    assert info.value.path == "bad.txt"
