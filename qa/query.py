"""What a caller may send with a question: date/author filters and the chat history."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from index.articles import Article
from qa.errors import MAX_QUESTION_CHARS, BadQuestion, check_question, check_text

MAX_HISTORY = 20  # turns kept, the latest
MAX_ANSWER_CHARS = 1000  # of each earlier answer (a snippet is at most 400)
# A day, or a day and a time with an optional zone: the forms web/openapi.json documents.
# Python's fromisoformat alone also takes week dates ("2012W01") and basic forms.
_DAY = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)


def parse_day(value: object, field: str, end_of_day: bool) -> datetime | None:
    """Parse a filter bound; a bare day covers all of it; raise BadQuestion on anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadQuestion(f"filters.{field} must be a date string like 2021-03-15")
    if not _DAY.fullmatch(value):
        raise BadQuestion(
            f"filters.{field} is not a date: {value[:40]!r} (use 2021-03-15 or 2021-03-15T12:00)"
        )
    try:
        if len(value) == 10:  # a bare day: 'before' includes all of it
            parsed = datetime.combine(
                date.fromisoformat(value), time.max if end_of_day else time.min
            )
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:  # a month 13, a day 31 in April, an hour 25
        raise BadQuestion(f"filters.{field} is not a date: {value!r} ({err})") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_now(value: object) -> date | None:
    """Parse the day a question is asked on ("2026-03-02"); raise BadQuestion on anything else."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or value == "" or isinstance(value, date):
        return value or None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
        raise BadQuestion(f"now must be a day like 2026-03-02, not {str(value)[:40]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise BadQuestion(f"now is not a day: {value!r} ({err})") from None


@dataclass(frozen=True)
class Filters:
    """Narrow the articles a question is answered from. Bounds are inclusive."""

    after: datetime | None = None
    before: datetime | None = None
    author: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Filters:
        """Read filters from a JSON object; raise BadQuestion on anything malformed."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise BadQuestion("filters must be an object with after, before and/or author")
        unknown = set(data) - {"after", "before", "author"}
        if unknown:
            raise BadQuestion(f"unknown filter(s): {', '.join(sorted(unknown))}")
        author = data.get("author")
        if author is not None and not isinstance(author, str):
            raise BadQuestion("filters.author must be a string (or null: no filter)")
        return cls(
            parse_day(data.get("after"), "after", False),
            parse_day(data.get("before"), "before", True),
            check_text(author, "filters.author").strip() or None if author else None,
        )

    def __bool__(self) -> bool:
        return any((self.after, self.before, self.author))

    def admits(self, article: Article) -> bool:
        """Return whether an article passes every filter (an undated one fails date bounds)."""
        if self.author and article.author.casefold() != self.author.casefold():
            return False
        if self.after and (article.date is None or article.date < self.after):
            return False
        return not (self.before and (article.date is None or article.date > self.before))


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a chat: what was asked and what was answered."""

    question: str
    answer: str | None = None

    @classmethod
    def list_from_json(cls, data: object) -> tuple[Turn, ...]:
        """Read a history list, the last MAX_HISTORY turns each cut to size; raise BadQuestion.

        Earlier turns are context, not the question: an overlong one is cut rather than refused.
        """
        if data is None:
            return ()
        if not isinstance(data, list) or not all(
            isinstance(t, dict)
            and isinstance(t.get("question"), str)
            and isinstance(t.get("answer"), str | None)
            for t in data
        ):
            raise BadQuestion(
                "history must be a list of {question: string, answer: string or null} objects"
            )
        turns = []
        for n, t in enumerate(data[-MAX_HISTORY:]):
            answer = t.get("answer")
            question = check_text(t["question"], f"history[{n}].question")
            if answer is not None:
                answer = check_text(answer, f"history[{n}].answer")[:MAX_ANSWER_CHARS]
            turns.append(cls(question[:MAX_QUESTION_CHARS], answer))
        return tuple(turns)


MAX_K = 20
MODES = ("hybrid", "bm25", "dense")


def check_k(k: object) -> int:
    """Return k, or raise BadQuestion unless it is an integer from 1 to MAX_K."""
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        shown = json.dumps(k) if isinstance(k, int | float | str | None) else type(k).__name__
        raise BadQuestion(f"k must be an integer from 1 to {MAX_K}, not {shown}")
    return k


@dataclass(frozen=True)
class Request:
    """A question with everything asked of it, checked once at the start of the pipeline."""

    question: str
    k: int = 5
    history: tuple[Turn, ...] = ()
    filters: Filters = Filters()
    mode: str = "hybrid"  # hybrid (BM25 + dense, fused), bm25 or dense
    rerank: bool = True
    read: bool = True  # mark the exact answer words with the span reader
    explain: bool = False
    now: date | None = None  # the day it is asked on (None: today); later articles are unseen

    @property
    def day(self) -> date:
        """Return the day the question is asked on."""
        return self.now or date.today()

    def seen(self) -> Filters:
        """Return the filters, bounded by `now` when one is given: later articles are unseen.

        The bound narrows the scope before searching (a filter after it would leave too few
        passages when most of the archive is newer); undated articles fail it, as they fail
        `before`: they cannot be placed on or before the day.
        """
        if self.now is None:
            return self.filters
        end = datetime.combine(self.now, time.max, tzinfo=UTC)
        before = min(self.filters.before, end) if self.filters.before else end
        return replace(self.filters, before=before)

    @classmethod
    def check(cls, question: object, k: object = 5, **options: object) -> Request:
        """Return a request, or raise BadQuestion saying which part is wrong."""
        question, k = check_question(question), check_k(k)
        if options.get("mode", "hybrid") not in MODES:
            raise BadQuestion(f"mode must be one of {', '.join(MODES)}")
        if options.get("filters") is None:
            options["filters"] = Filters()
        options["now"] = parse_now(options.get("now"))
        return cls(question, k, **options)
