"""Find the exact answer span to a question in passages, on the CPU, offline.

The model is all-MiniLM-L6-v2 fine-tuned for extractive QA on SQuAD v1.1 train
(train/reader.py; qa/models/reader/MODEL_CARD.md), run with onnxruntime + tokenizers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedder.onnx_runner import batches, open_session
from qa.errors import ModelMissing

MODEL_DIR = Path(__file__).resolve().parent / "models" / "reader"
MAX_TOKENS = 256  # question + passage window, as trained
STRIDE = 128  # tokens shared by consecutive windows of a long passage
MAX_QUESTION_TOKENS = 64  # a longer question is cut so the passage always keeps its room
MAX_ANSWER_TOKENS = 30
CANDIDATES = 20  # best starts x best ends looked at per window
BATCH = 16  # windows per run: sorted by length, so little padding is wasted
_STRIP = " \t\n\r.,;:!?\"'«»“”‘’"
_OPEN, _CLOSE = "([{", ")]}"
_CURRENCY = "$€£¥₹"


@dataclass(frozen=True)
class Span:
    """An answer: passage[start:end] == text; score = start + end logit; probability in 0..1."""

    start: int
    end: int
    text: str
    score: float
    probability: float  # softmax over the window's starts times over its ends


class SpanReader:
    """Point at the words of a passage that answer a question."""

    def __init__(
        self, folder: Path | None = None, threads: int = 0, free: Callable[[], int] | None = None
    ) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder) if folder else MODEL_DIR
        if not (folder / "model.onnx").is_file() or not (folder / "tokenizer.json").is_file():
            raise ModelMissing(f"no span reader model in {folder}")
        # Two tokenizers because truncation is a setting of the object, not of a call.
        self._questions = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._questions.no_padding()
        self._questions.enable_truncation(max_length=MAX_QUESTION_TOKENS)
        self._pairs = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._pairs.no_padding()
        self._pairs.enable_truncation(MAX_TOKENS, stride=STRIDE, strategy="only_second")
        # Idle threads that spin steal the CPU that other workers on a small machine need.
        threads = threads or min(4, os.cpu_count() or 1)
        self._session = open_session(folder / "model.onnx", threads, free)

    def _cut_question(self, question: str) -> str:
        """Return the question cut to MAX_QUESTION_TOKENS tokens, at a character boundary."""
        enc = self._questions.encode(question, add_special_tokens=False)
        return question[: enc.offsets[-1][1]] if enc.offsets else ""

    def spans(self, question: str, passages: Sequence[str], top: int = 3) -> list[list[Span]]:
        """Return for each passage its best `top` answer spans, best first."""
        if not passages:
            return []
        question = self._cut_question(question)
        windows = []  # (passage index, encoding): a long passage gives several windows
        for i, enc in enumerate(self._pairs.encode_batch([(question, p) for p in passages])):
            windows += [(i, w) for w in [enc, *enc.overflowing] if 1 in w.sequence_ids]
        best: list[dict[tuple[int, int], Span]] = [{} for _ in passages]
        encodings = [w for _, w in windows]
        for part, (starts, ends) in batches(self._session, encodings, BATCH):
            for k, s, e in zip(part, starts, ends, strict=True):
                i, enc = windows[k]
                for span in self._window_spans(passages[i], enc, s, e, top):
                    key = (span.start, span.end)
                    if key not in best[i] or best[i][key].score < span.score:
                        best[i][key] = span
        return [sorted(b.values(), key=lambda s: -s.score)[:top] for b in best]

    def _window_spans(
        self, passage: str, enc, starts: np.ndarray, ends: np.ndarray, top: int
    ) -> list[Span]:
        """Return the window's `top` best distinct spans among its best starts and ends."""
        n = len(enc.ids)
        starts, ends = starts[:n], ends[:n]
        in_passage = np.array([s == 1 for s in enc.sequence_ids])  # special tokens are None
        log_start = starts - np.logaddexp.reduce(starts)
        log_end = ends - np.logaddexp.reduce(ends)
        best_s = np.argsort(-np.where(in_passage, starts, -np.inf), kind="stable")[:CANDIDATES]
        best_e = np.argsort(-np.where(in_passage, ends, -np.inf), kind="stable")[:CANDIDATES]
        a, b = (g.ravel() for g in np.meshgrid(best_s, best_e, indexing="ij"))
        ok = in_passage[a] & in_passage[b] & (a <= b) & (b < a + MAX_ANSWER_TOKENS)
        a, b = a[ok], b[ok]
        score = starts[a] + ends[b]
        # Best first (ties in the order pairs were listed): only the first `top` distinct spans
        # can reach the passage's best `top`, so widening and trimming stop there.
        out: dict[tuple[int, int], Span] = {}
        for j in np.argsort(-score, kind="stable"):
            span = _trim(passage, *_widen(passage, enc.offsets[a[j]][0], enc.offsets[b[j]][1]))
            if span is None or span in out:
                continue
            prob = float(np.exp(log_start[a[j]] + log_end[b[j]]))
            out[span] = Span(span[0], span[1], passage[span[0] : span[1]], float(score[j]), prob)
            if len(out) == top:
                break
        return list(out.values())


def _widen(passage: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) grown to whole words, and to a currency's prefix: "US$", "HK$"."""
    # Word pieces let the model start inside a word ("##ford"); "US" is split from "$200".
    while 0 < start < end and _in_word(passage[start - 1]) and _in_word(passage[start]):
        start -= 1
    while start < end < len(passage) and _in_word(passage[end - 1]) and _in_word(passage[end]):
        end += 1
    if start < end and passage[start] in _CURRENCY:
        while start > 0 and passage[start - 1].isalpha() and passage[start - 1].isupper():
            start -= 1
    return start, end


def _in_word(char: str) -> bool:
    """Return whether char belongs to a space-delimited word (CJK text has no spaces)."""
    return char.isalnum() and char < "\u2e80"


def _trim(passage: str, start: int, end: int) -> tuple[int, int] | None:
    """Return (start, end) without surrounding space and punctuation; None if nothing is left."""
    while start < end:
        text = passage[start:end]
        if text[0] in _STRIP or (text[0] in _OPEN and _CLOSE[_OPEN.index(text[0])] not in text):
            start += 1
        elif text[-1] in _STRIP and not _abbreviation(text):
            end -= 1
        elif text[-1] in _CLOSE and _OPEN[_CLOSE.index(text[-1])] not in text:
            end -= 1  # a bracket is kept only with its partner: "7 km (4 mi)"
        else:
            break
    return (start, end) if start < end else None


def _abbreviation(text: str) -> bool:
    """Return whether text ends in a dotted abbreviation whose dot is kept: U.S., D.C., p.m."""
    words = text[:-1].split()
    return text.endswith(".") and bool(words) and "." in words[-1]
