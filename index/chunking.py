"""Split cleaned article text into sentences and pack them into overlapping chunks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Words whose trailing period is not a sentence end. Lower-case, without the period.
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "inc",
        "corp",
        "co",
        "ltd",
        "llc",
        "plc",
        "bros",
        "dept",
        "univ",
        "assn",
        "gen",
        "gov",
        "sen",
        "rep",
        "rev",
        "sgt",
        "capt",
        "col",
        "lt",
        "cmdr",
        "adm",
        "pres",
        "vs",
        "etc",
        "al",
        "approx",
        "est",
        "fig",
        "no",
        "nos",
        "vol",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
)
# A candidate end: terminal punctuation, closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)")
# What a new sentence may start with: a capital, a digit, a quote or an opening bracket.
_STARTER = re.compile(r"\s+[\"'\u201c\u2018(\[$\u00a3\u20ac]?[A-Z0-9\u00c0-\u00de]")
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$")  # U.S. e.g. J. — never end a sentence here
_WORD_BEFORE = re.compile(r"(\S+)$")

MAX_CHARS = 500  # ~100 words: MiniLM was trained on 128-token inputs
OVERLAP = 1  # sentences repeated at the start of the next chunk, so no answer sits on a seam


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: text == article.text[start:end]."""

    id: str
    article_id: str
    text: str
    start: int
    end: int


def _is_boundary(paragraph: str, match: re.Match) -> bool:
    """Decide whether the punctuation at match really ends a sentence."""
    if not _STARTER.match(paragraph, match.end()):
        return False
    if match.group()[0] != ".":
        return True
    word = _WORD_BEFORE.search(paragraph, 0, match.start() + 1).group(1)
    bare = word.rstrip(".").lstrip("\"'(\u201c\u2018[").lower()
    if bare in ABBREVIATIONS or _INITIALS.match(word.lstrip("\"'(\u201c\u2018[")):
        return False
    # "3. The company will..." — a list number opening a paragraph, not a sentence.
    return not (bare.isdigit() and match.start() == len(word) - 1)


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each paragraph, paragraphs being separated by blank lines."""
    for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        yield m.start(), m.end()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of every sentence in text, stripped of whitespace."""
    spans = []
    for p_start, p_end in _paragraph_spans(text):
        paragraph = text[p_start:p_end]
        cuts = [m.end() for m in _END.finditer(paragraph) if _is_boundary(paragraph, m)]
        begin = 0
        for cut in [*cuts, len(paragraph)]:
            piece = paragraph[begin:cut]
            lead = len(piece) - len(piece.lstrip())
            if piece.strip():
                spans.append((p_start + begin + lead, p_start + begin + len(piece.rstrip())))
            begin = cut
    return spans


def pack_sentences(
    sentences: list[tuple[int, int]], max_chars: int = MAX_CHARS, overlap: int = OVERLAP
) -> list[tuple[int, int]]:
    """Group consecutive sentences into (start, end) windows of about max_chars, overlapping."""
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i + 1  # a window always holds at least one sentence, however long
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= max_chars:
            j += 1
        windows.append((sentences[i][0], sentences[j - 1][1]))
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return windows


# Recorded in each generation's meta.json: a build reuses vectors only from a generation that
# embedded the same text. "headline+chunk" (embedding each chunk after its headline) was tried
# and made ranking inside an article worse (every chunk matched the headline): chunks alone.
INDEXED_TEXT = "chunk"


def indexed_text(title: str, chunk: str) -> str:
    """Return what the span reader reads: the article's headline, then the window's words.

    A headline often names what the body only calls "the company".
    """
    return f"{title}\n{chunk}" if title else chunk


def chunk_text(article_id: str, text: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Cut one article's text into chunks that remember their offsets."""
    windows = pack_sentences(split_sentences(text), max_chars)
    return [
        Chunk(f"{article_id}#{n}", article_id, text[start:end], start, end)
        for n, (start, end) in enumerate(windows)
    ]
