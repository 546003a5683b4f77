"""HTML cleaning in one pass, hostile bodies, the element cap and the per-file time budget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4.element import Tag
from click.testing import CliRunner
from conftest import ALIYUN, REPO, SEEDS

from cli.main import cli
from index.articles import MAX_AUTHOR_CHARS, MAX_ELEMENTS, MAX_TITLE_CHARS, parse_article
from index.build import build
from index.errors import ArticleError
from index.sources.cleaning import clean_html

# 48 KB that Python's html.parser takes 27-40 s over (quadratic; CVE-2025-6069 class).
SLOW_HTML = "<a " * 16_000


def test_cleaning_never_edits_the_tree(monkeypatch):
    # Tag.index (a scan of the parent's children) made every insert and removal cost O(n).
    calls = []
    original = Tag.index
    monkeypatch.setattr(Tag, "index", lambda self, el: calls.append(1) or original(self, el))
    text, url = clean_html(
        "<p>a</p>" * 500 + '<br>x<img src=y> <a href="http://feeds.feedburner.com/z">s</a>'
    )
    assert text == "\n\n".join(["a"] * 500 + ["x"]) and url == "" and calls == []


@pytest.mark.parametrize(
    ("body", "text", "url"),
    [
        ("<p>One</p><p>Two<br>lines</p>", "One\n\nTwo lines", ""),
        ("<div><blockquote>Quote</blockquote>after</div>", "Quote\n\nafter", ""),
        ("a<script>x()</script><style>p{}</style>b<!-- c -->c", "abc", ""),
        ('<div class="feedflare x">share</div>kept', "kept", ""),
        (
            '<p>Text.</p><br/> The original article was posted <a href="http://o/1"> here</a>.',
            "Text.",
            "http://o/1",
        ),
        ("<p>x &amp; y &#8217;</p>", "x & y \u2019", ""),
        ("<div>" * 2000 + "deep" + "</div>" * 2000, "deep", ""),
    ],
)
def test_cleaning_keeps_its_output(body, text, url):
    assert clean_html(body) == (text, url)


@pytest.mark.slow
def test_huge_bodies_clean_in_a_bounded_time():
    # 600,000 <p> (4.8 MB) and 100,000 nested <div>s: quadratic cleaning took hours and
    # minutes. The timeout is a generous safety limit for a loaded machine, not a benchmark.
    script = (
        "from index.sources.cleaning import clean_html\n"
        "text, _ = clean_html('<p>a</p>' * 600_000); assert text.count('a') == 600_000\n"
        "text, _ = clean_html('<div>' * 100_000 + 'x' + '</div>' * 100_000); assert text == 'x'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=300)


def _article(body: str, **header: object) -> bytes:
    return (json.dumps(header or {"title": "T"}) + "\n" + body).encode()


def test_a_body_of_too_many_elements_is_not_an_article():
    body = "<p>a</p>" * (MAX_ELEMENTS + 1)
    with pytest.raises(ArticleError, match="too many HTML elements"):
        parse_article(_article(body), "x.txt", "x")
    assert parse_article(_article("<p>a</p>" * 1000), "y.txt", "y").text.count("a") == 1000


def test_titles_and_authors_are_capped_and_valid_text():
    raw = _article("<p>Body.</p>", title="T" * 1_000_000, author="A\n" * 1000)
    article = parse_article(raw, "x.txt", "x")
    assert len(article.title) == MAX_TITLE_CHARS and len(article.author) <= MAX_AUTHOR_CHARS
    assert "\n" not in article.author
    raw = b'{"title": "half \\ud800 a pair", "author": "\\udfff"}\n<p>Body.</p>'
    article = parse_article(raw, "x.txt", "x")
    assert article.title == "half \ufffd a pair" and article.author == "\ufffd"
    article.title.encode("utf-8")  # what the tokenizers need


@pytest.mark.slow
def test_a_file_over_the_time_budget_is_skipped_and_the_build_goes_on(tmp_path, fake_embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / ALIYUN).write_bytes((SEEDS / ALIYUN).read_bytes())
    (seeds / "slow.txt").write_bytes(_article(SLOW_HTML))
    (seeds / "zebra.txt").write_bytes(_article("<p>Zebras took over Oslo.</p>", title="Z"))
    report = build(seeds, tmp_path / "ix", fake_embedder, parse_seconds=1)
    [skipped] = report.skipped
    assert Path(skipped.path).name == "slow.txt" and "longer than 1 s" in skipped.reason
    assert sorted(report.added) == [ALIYUN.removesuffix(".txt"), "zebra"]  # after it, too


@pytest.mark.slow
def test_qa_index_skips_the_600k_paragraph_file_and_a_link_out(tmp_path, fake_embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / ALIYUN).write_bytes((SEEDS / ALIYUN).read_bytes())
    (seeds / "huge.txt").write_bytes(_article("<p>a</p>" * 600_000))
    assert (seeds / "huge.txt").stat().st_size < 5 * 1024 * 1024  # under the size limit
    (tmp_path / "outside.txt").write_bytes(_article("<p>A secret.</p>"))
    (seeds / "link.txt").symlink_to(tmp_path / "outside.txt")
    args = ["index", "--seeds", str(seeds), "--index", str(tmp_path / "ix"), "--json"]
    result = CliRunner().invoke(cli, args, obj={"embedder": fake_embedder})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert "too many HTML elements" in reasons["huge.txt"]
    assert "outside the seeds folder" in reasons["link.txt"]
    assert report["added"] == [ALIYUN.removesuffix(".txt")]


@pytest.mark.slow
def test_a_killed_build_leaves_no_parser_parsing_on(tmp_path):
    # The parent starts a child on the slow body and is killed -9 mid-parse: the child must
    # not parse on for minutes as an orphan.
    script = (
        "from index.sources.parser_process import ParserProcess\n"
        f"ParserProcess(600).read(b'{{}}\\n' + {SLOW_HTML.encode()!r}, 'slow.txt', 'slow')\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
    deadline = time.monotonic() + 60
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.1)
    [child] = children.read_text().split()
    time.sleep(2)  # it has imported bs4 and is deep in the body by now
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{child}/stat")
        if not stat.exists() or stat.read_text().split()[2] in ("Z", "X"):
            break
        time.sleep(0.1)
    else:
        os.kill(int(child), signal.SIGKILL)
        pytest.fail("the parser process outlived its killed parent")
