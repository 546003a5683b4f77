"""Stage 4, extraction: the span reader marks the exact answer words in the best snippets.

The reader's confidence joins the ranking only as a bonus on the few windows it reads: on its
own it picks the wrong snippet more often than the cross-encoder (letting the raw span score
choose among the top five made exact-answer F1 worse in the feasibility check), so it decides
between windows the ranking finds close, and never lifts one from further down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Protocol

from index.chunking import indexed_text, split_sentences
from qa.candidates import Candidates
from qa.text.snippets import Snippet
from qa.text.spans import find_spans

READ_WINDOWS = 3  # windows the span reader reads (the ones that may be shown first)
# Logits a certain span adds to its window (probability 0..1 times this). 2.0 since the reader
# learnt from all of squad-train: bench/calibration.py replays 300 squad-train questions, hit@1
# 0.867 -> 0.873 and exact F1 0.756 -> 0.765 from 1.0, eval/news calibration unchanged
# (0.950, 0.902); 3.0 and more lose news questions.
W_SPAN = 2.0
W_KIND = 0.5  # more when the span is of the kind the question asks for (a date for "when")
# Reading each window after its headline (and quoting answers from it) was built and measured
# with this reader: it quoted whole headlines for "who" follow-ups and lifted every window of an
# article alike, so it is off until a reader is trained with headlines (see #21's note).
READ_HEADLINE = False
SPANS_EACH = 3  # the reader's best spans per window, among which the kind may choose
# A span of the wanted kind beats a likelier one by at most this much probability: on 300
# validation questions, 0.1 gave exact F1 0.597 against 0.593 for the reader alone, larger
# weights less (the reader knows the kind already, mostly). See docs/evaluation.md.
W_TYPED_SPAN = 0.1


class SpanLike(Protocol):
    """What a span reader returns: passage offsets, the words, a probability."""

    start: int
    end: int
    text: str
    probability: float


class SpanReading(Protocol):
    """Anything that finds answer spans in passages (qa.span_reader.SpanReader)."""

    def spans(self, question: str, passages: Sequence[str], top: int = 3) -> list[list]: ...


@dataclass(frozen=True)
class Found:
    """The answer words of one window: offsets relative to the snippet, and a probability."""

    start: int
    end: int
    probability: float
    typed: bool  # of the kind the question asks for
    headline: bool = False  # the words are in the article's headline (offsets into the title)
    own: float = 0.0  # the best probability of a span inside the window itself

    def words(self, window: Snippet) -> str:
        """Return the answer words, copied from the window or from its article's headline."""
        return (window.passage.article.title if self.headline else window.text)[
            self.start : self.end
        ]


class Extraction:
    """Read the best windows with the span reader; reorder them by span confidence."""

    def __init__(
        self,
        kind_of,
        reader: SpanReading | None = None,
        *,
        folder: Path | None = None,
        threads: int = 0,
    ) -> None:
        self._kind_of = kind_of  # question -> the kind of answer it asks for
        self._folder, self._threads = folder, threads
        if reader is not None:
            self.__dict__["reader"] = reader

    @cached_property
    def reader(self) -> SpanReading:
        """The span reader, loaded on first use."""
        from qa.span_reader import SpanReader

        return SpanReader(self._folder, self._threads)

    def __call__(self, c: Candidates) -> Candidates:
        """Fill in `found` for the first windows and move the surer answers up among them."""
        if not c.request.read or not c.windows:
            return c
        head, tail = list(c.windows[:READ_WINDOWS]), list(c.windows[READ_WINDOWS:])
        found = self.read_windows(c, head)
        bonus = [0.0 if f is None else W_SPAN * f.own + W_KIND * f.typed for f in found]
        order = sorted(range(len(head)), key=lambda i: -(head[i].score + bonus[i]))
        windows = [replace(head[i], score=head[i].score + bonus[i]) for i in order]
        logits = c.logits
        if logits:
            logits = tuple(logits[i] for i in order) + tuple(logits[len(head) :])
        return replace(
            c,
            windows=tuple(windows + tail),
            logits=logits,
            found=tuple(found[i] for i in order),
        )

    def read_windows(self, c: Candidates, windows: Sequence[Snippet]) -> list[Found | None]:
        """Return the reader's answer in each window (None where it finds no span)."""
        question = c.query.text  # a follow-up is read as resolved ("when did Alibaba invest?")
        kind = self._kind_of(c.request.question)
        passages = [self._passage(w) for w in windows]
        read = self.reader.spans(question, passages, top=SPANS_EACH)
        return [
            self._best(w, spans, kind, c.request.question) if spans else None
            for w, spans in zip(windows, read, strict=True)
        ]

    @staticmethod
    def _passage(window: Snippet) -> str:
        """Return what the reader reads of a window (after its headline, when READ_HEADLINE)."""
        return (
            indexed_text(window.passage.article.title, window.text)
            if READ_HEADLINE
            else window.text
        )

    def _best(self, window: Snippet, spans: Sequence[SpanLike], kind, question: str) -> Found:
        """Return the reader's likeliest span, a span of the wanted kind gaining a little."""
        found = [self._found(window, span, kind, question) for span in spans]
        best = max(found, key=lambda f: f.probability + W_TYPED_SPAN * f.typed)
        # Only a span in the window says the window answers: every window of an article shares
        # its headline, so a headline span would lift them all alike.
        own = max((f.probability for f in found if not f.headline), default=0.0)
        return replace(best, own=own)

    @staticmethod
    def _found(window: Snippet, span: SpanLike, kind: str | None, question: str) -> Found:
        """Describe a span, kept inside one sentence; typed if it is mostly of the wanted kind."""
        title = window.passage.article.title
        shift = len(indexed_text(title, "")) if READ_HEADLINE else 0  # headline + "\n" first
        headline = span.start < shift
        if headline:
            text, start, end = title, span.start, min(span.end, len(title))
        else:
            text, start, end = window.text, span.start - shift, span.end - shift
        for a, b in split_sentences(text):
            if a <= start < b:  # "Jack Ma. TechInAsia": an answer never runs into the next one
                end = min(end, b)
                break
        while end > start and text[end - 1] in " .,;:":
            end -= 1
        words = text[start:end]
        if headline and words and words in window.text:  # the snippet says it too: quote that
            start = window.text.index(words)
            end, headline = start + len(words), False
        typed = any((b - a) >= 0.6 * len(words) for a, b in find_spans(words, kind, question))
        return Found(start, end, span.probability, typed, headline)
