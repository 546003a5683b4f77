"""The extraction stage: which of the span reader's proposals becomes the answer."""

from __future__ import annotations

from dataclasses import dataclass

from index.articles import Article
from index.chunking import Chunk
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


def _window(text: str) -> Snippet:
    article = Article("a", "a.txt", "Aliyun abroad", None, "", "", text, "h")
    passage = Passage(Chunk("a#0", "a", text, 0, len(text)), article, 1.0, 0)
    return Snippet(passage, 0, len(text), 1.0, None)


def _span(words: str, probability: float, text: str = TEXT) -> Span:
    start = text.index(words)
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
