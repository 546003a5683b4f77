"""Sentence splitting and chunk offsets."""

from __future__ import annotations

import pytest
from conftest import SEEDS, TINY

from index.articles import read_article
from index.chunking import MAX_CHARS, chunk_text, pack_sentences, split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "He moved to the U.S. in 2001. Apple Inc. paid US$200 million. It grew.",
            ["He moved to the U.S. in 2001.", "Apple Inc. paid US$200 million.", "It grew."],
        ),
        (
            "Dr. Smith met J. K. Rowling. Then he left!",
            ["Dr. Smith met J. K. Rowling.", "Then he left!"],
        ),
        ('He said "Yes." She agreed? No.', ['He said "Yes."', "She agreed?", "No."]),
        (
            "It costs $1.5 million. Version 2.0 ships.",
            ["It costs $1.5 million.", "Version 2.0 ships."],
        ),
        ("3. The company will invest.", ["3. The company will invest."]),
        ("See e.g. the docs. Fine.", ["See e.g. the docs.", "Fine."]),
        ("One paragraph\n\nTwo paragraph", ["One paragraph", "Two paragraph"]),
    ],
)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_pack_sentences_overlaps_by_one_and_respects_size():
    spans = [(i * 100, i * 100 + 90) for i in range(10)]
    windows = pack_sentences(spans, max_chars=300, overlap=1)
    assert windows[0] == (0, 290)
    assert windows[1][0] == 200  # starts with the previous window's last sentence
    assert all(e - s <= 300 for s, e in windows)
    assert windows[-1][1] == 990


def test_long_sentence_gets_its_own_chunk():
    spans = [(0, 50), (51, 1051), (1052, 1100)]
    windows = pack_sentences(spans, max_chars=300)
    # the 1,000-character sentence stands alone: neither neighbour is packed into its window
    assert windows == [(0, 50), (51, 1051), (1052, 1100)]


def test_chunk_text_matches_article_offsets_on_every_seed():
    paths = sorted(SEEDS.glob("*.txt"))
    # The glob must find the default corpus, or the loop below proves nothing.
    assert set(TINY) <= {p.name for p in paths}, f"seeds missing from {SEEDS}"
    for path in paths:
        article = read_article(path)
        chunks = chunk_text(article.id, article.text)
        assert chunks, path
        for chunk in chunks:
            assert chunk.text == article.text[chunk.start : chunk.end]
            assert chunk.article_id == article.id
            assert chunk.text == chunk.text.strip()
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)
        # Every sentence lies wholly inside some chunk: no answer is cut at a seam.
        for s, e in split_sentences(article.text):
            assert any(c.start <= s and e <= c.end for c in chunks)
        assert max(len(c.text) for c in chunks) <= max(
            MAX_CHARS, max(e - s for s, e in split_sentences(article.text))
        )
