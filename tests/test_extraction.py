"""The extraction stage: which of the span reader's proposals becomes the answer."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

import qa.stages.extraction as extraction
from index.articles import Article
from index.chunking import Chunk, indexed_text
from qa.retrieval import Passage
from qa.stages.extraction import W_TYPED_SPAN, Extraction
from qa.text.kinds import answer_kind
from qa.text.snippets import Snippet

TEXT = "Aliyun, the cloud arm, will open its first foreign data centre in Singapore next year."
QUESTION = "Which country gets Aliyun's first foreign data centre?"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    probability: float


TITLE = "Aliyun abroad"


@pytest.fixture(autouse=True)
def read_headlines(monkeypatch):
    """These tests cover reading (and quoting) headlines, off by default (READ_HEADLINE)."""
    monkeypatch.setattr(extraction, "READ_HEADLINE", True)


def _window(text: str, title: str = TITLE) -> Snippet:
    article = Article("a", "a.txt", title, None, "", "", text, "h")
    passage = Passage(Chunk("a#0", "a", text, 0, len(text)), article, 1.0, 0)
    return Snippet(passage, 0, len(text), 1.0, None)


def _span(words: str, probability: float, text: str = TEXT, title: str = TITLE) -> Span:
    """Return a span as the reader gives it: offsets into the headline, a line break, the text."""
    read = indexed_text(title, text)
    start = read.index(words, len(title) + 1 if words not in title else 0)
    return Span(start, start + len(words), words, probability)


def _chosen(spans: list[Span], text: str = TEXT, question: str = QUESTION) -> str:
    found = Extraction(answer_kind)._best(_window(text), spans, answer_kind(question), question)
    return text[found.start : found.end]


def test_a_span_of_the_wanted_kind_beats_a_slightly_likelier_one():
    spans = [_span("next year", 0.40), _span("Singapore", 0.40 - W_TYPED_SPAN / 2)]
    assert _chosen(spans) == "Singapore"


def test_the_kind_never_overrides_a_clearly_surer_reader():
    spans = [_span("next year", 0.80), _span("Singapore", 0.20)]
    assert _chosen(spans) == "next year"


def test_a_span_never_runs_into_the_next_sentence():
    text = "The founder is Jack Ma. TechInAsia first reported it."
    spans = [_span("Jack Ma. TechInAsia", 0.9, text)]
    assert _chosen(spans, text, "who is the founder?") == "Jack Ma"


class RecordingReader:
    """A span reader that proposes given words in every passage and records what it read."""

    def __init__(self, words: str) -> None:
        self.words, self.read = words, []

    def spans(self, question: str, passages, top: int = 3) -> list[list[Span]]:
        self.read += list(passages)
        return [
            [_span(self.words, 0.9, p.split("\n", 1)[1], p.split("\n", 1)[0])] for p in passages
        ]


def _read(words: str, title: str, text: str, question: str):
    reader = RecordingReader(words)
    window = _window(text, title)
    c = SimpleNamespace(
        query=SimpleNamespace(text=question), request=SimpleNamespace(question=question)
    )
    return reader, window, Extraction(answer_kind, reader).read_windows(c, [window])[0]


def test_the_reader_reads_the_headline_with_each_window():
    reader, window, found = _read("Singapore", TITLE, TEXT, QUESTION)
    assert reader.read == [f"{TITLE}\n{TEXT}"]
    assert not found.headline and window.text[found.start : found.end] == "Singapore"


def test_an_answer_in_the_headline_is_quoted_from_the_headline():
    from qa.answer import Citation
    from qa.stages.decision import Decision

    title, text = "Zorblax cuts 300 jobs", "The company said the cuts would come this quarter."
    _, window, found = _read("Zorblax", title, text, "Which company cut jobs?")
    assert found.headline and title[found.start : found.end] == "Zorblax"
    c = SimpleNamespace(
        found=(found,),
        windows=(window,),
        request=SimpleNamespace(question="Which company cut jobs?"),
    )
    decision = Decision(None, None)
    citation = Citation.from_snippet(decision._marked(c, 0, window))
    assert citation.title_highlight == (0, 7) and citation.highlight is None
    assert citation.to_json()["title_highlight"] == [0, 7]
    assert decision.exact(c, citation).text == "Zorblax"


def test_the_words_of_a_headline_answer_come_from_the_headline():
    # The timing stage dates these words: offsets into the title, not into the window.
    title, text = "Zorblax cuts 300 jobs", "The company said the cuts would come this quarter."
    _, window, found = _read("Zorblax", title, text, "Which company cut jobs?")
    assert found.headline and found.words(window) == "Zorblax"
    _, window, found = _read("this quarter", title, text, "When will the cuts come?")
    assert not found.headline and found.words(window) == "this quarter"


def test_words_the_window_says_too_are_quoted_from_the_window():
    title, text = "Zorblax cuts 300 jobs", "Zorblax said the cuts would come this quarter."
    _, window, found = _read("Zorblax", title, text, "Which company cut jobs?")
    assert not found.headline and (found.start, found.end) == (0, 7)


def test_by_default_the_reader_reads_the_window_alone(monkeypatch):
    monkeypatch.setattr(extraction, "READ_HEADLINE", False)
    reader = RecordingReader("Singapore")
    reader.spans = lambda question, passages, top=3: (
        reader.read.extend(passages)
        or [[Span(TEXT.index("Singapore"), TEXT.index("Singapore") + 9, "Singapore", 0.9)]]
    )
    window = _window(TEXT)
    c = SimpleNamespace(
        query=SimpleNamespace(text=QUESTION), request=SimpleNamespace(question=QUESTION)
    )
    found = Extraction(answer_kind, reader).read_windows(c, [window])[0]
    assert reader.read == [TEXT] and window.text[found.start : found.end] == "Singapore"
