"""Ground dates: "yesterday" in an article of 21 Sep 2012 is 2012-09-20; "last week" asked on
a day is that week.

News text dates things relative to the day it was published. A reader in 2026 needs the day
itself, so an answer's words are resolved against the article's date. The result is an ISO
8601 string at the precision the words give: a day (2012-09-20), a month (2012-03) or a year
(2011). Words that name no time, or a time that can't be placed, resolve to None.

A question is read with the same code against the day it is asked (`question_period`): "in
2019", "as of March 2021", "this week", "yesterday" become a `Period` of days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for m in names
}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[0-9]|20)\d{2})"
_PATTERNS = (  # most precise first
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b", re.I),  # September 20(, 2012)
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b", re.I),  # 20 September
    re.compile(rf"\b{_MONTH}(?:,?\s+(?:of\s+)?{_YEAR})?\b", re.I),  # March (2012)
    re.compile(rf"\b{_YEAR}\b"),
)
_RELATIVE_DAY = re.compile(r"\b(yesterday|today|tonight|tomorrow)\b", re.I)
_WEEKDAY = re.compile(r"\b(?:(last|this|next|on)\s+)?(" + "|".join(_DAYS) + r")\b", re.I)
_PERIOD = re.compile(r"\b(last|this|next)\s+(week|month|year)\b", re.I)
_AGO = re.compile(r"\b(\d+|a|one|two|three)\s+(day|week|month|year)s?\s+ago\b", re.I)
_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3}


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _month_shift(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return _month(index // 12, index % 12 + 1)


def _relative(text: str, published: date) -> str | None:
    """Resolve words relative to the publication day ("yesterday", "last Tuesday", ...)."""
    if m := _RELATIVE_DAY.search(text):
        shift = {"yesterday": -1, "tomorrow": 1}.get(m.group(1).lower(), 0)
        return (published + timedelta(days=shift)).isoformat()
    if m := _AGO.search(text):
        n = _WORDS.get(m.group(1).lower()) or int(m.group(1))
        unit = m.group(2).lower()
        if unit in ("day", "week"):
            return (published - timedelta(days=n * (7 if unit == "week" else 1))).isoformat()
        if unit == "month":
            return _month_shift(published, -n)
        return str(published.year - n) if published.year > n else None
    if m := _WEEKDAY.search(text):
        which, target = (m.group(1) or "").lower(), _DAYS.index(m.group(2).lower())
        delta = target - published.weekday()
        if which == "next":  # the next such day after publication
            return (published + timedelta(days=delta % 7 or 7)).isoformat()
        if which == "last":  # the most recent such day before publication
            return (published + timedelta(days=-((-delta) % 7 or 7))).isoformat()
        # "on Tuesday" / "this Tuesday": news means the same week, most often already past
        return (published + timedelta(days=delta if delta <= 1 else delta - 7)).isoformat()
    if m := _PERIOD.search(text):
        shift = {"last": -1, "this": 0, "next": 1}[m.group(1).lower()]
        unit = m.group(2).lower()
        if unit == "year":
            return str(published.year + shift)
        if unit == "month":
            return _month_shift(published, shift)
        monday = published - timedelta(days=published.weekday()) + timedelta(weeks=shift)
        return monday.isoformat()  # the week, named by its Monday
    return None


def _absolute(text: str, published: date) -> str | None:
    """Resolve calendar words ("Sept. 20", "March 2011", "2009"), filling in a missing year."""
    for pattern in _PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        parts = m.groupdict()
        month = _MONTHS.get((parts.get("month") or "").lower().rstrip("."))
        year = int(parts["year"]) if parts.get("year") else None
        if month is None:
            return str(year) if year else None
        if year is None:  # "in March" of an article dated September: this year's March
            year = published.year if month <= published.month else published.year - 1
        if parts.get("day"):
            try:
                return date(year, month, int(parts["day"])).isoformat()
            except ValueError:
                return None
        return _month(year, month)
    return None


def resolve(text: str, published: date | None) -> str | None:
    """Return the ISO date (day, month or year) that text names, read on the day published.

    Calendar words with a year need no publication date; relative ones ("yesterday", "last
    week", "in March") do, and resolve to None without it.
    """
    try:
        if published is None:
            found = _absolute(text, date(9999, 12, 31))
            return found if found and not found.startswith("9999") else None
        return _relative(text, published) or _absolute(text, published)
    except (ValueError, OverflowError):  # "3000 years ago": before year 1, no date to give
        return None


def is_relative(text: str) -> bool:
    """Return whether the words date something only relative to when they were written."""
    has_year = re.search(_YEAR, text) is not None
    relative = any(p.search(text) for p in (_RELATIVE_DAY, _WEEKDAY, _PERIOD, _AGO))
    return relative or (not has_year and any(p.search(text) for p in _PATTERNS[:3]))


def show(text: str, iso: str) -> str:
    """Return the words with their resolved date beside them: "yesterday — 20 Sep 2012"."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 3:
        label = date(*parts).strftime("%-d %b %Y")
    elif len(parts) == 2:
        label = date(parts[0], parts[1], 1).strftime("%b %Y")
    else:
        label = str(parts[0])
    return f"{text} — {label}"


@dataclass(frozen=True)
class Period:
    """The days a question asks about (inclusive), and the words that named them."""

    start: date
    end: date
    words: str
    relative: bool  # "this week" (prefer articles from it) rather than "in 2019" (as of then)

    def holds(self, day: date) -> bool:
        """Return whether a day falls inside the period."""
        return self.start <= day <= self.end

    def to_json(self) -> dict:
        """Return the period as plain JSON types ("label": the words without their lead)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "words": self.words,
            "label": period_label(self),
        }


# A named time only counts in a question after one of these ("the 2008 earthquake" names none).
_AS_OF = re.compile(r"\b(?:in|as of|by|during|at the end of|until|back in)\s+", re.I)
_RECENTLY = re.compile(r"\b(recently|lately|these days)\b", re.I)
# A weekday names a day in a question only after on/last/this/next ("Cyber Monday" does not).
_ASKED_WEEKDAY = re.compile(r"\b(last|this|next|on)\s+(" + "|".join(_DAYS) + r")\b", re.I)
_QUESTION_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")  # "in 1500 cities" names no year
RECENT_DAYS = 30


def _span(iso: str) -> tuple[date, date]:
    """Return the first and last day of an ISO year, month or day."""
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        first = date(parts[0], parts[1], 1)
        after = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, after - timedelta(days=1)
    day = date(*parts)
    return day, day


def _relative_period(question: str, now: date) -> Period | None:
    """Return the period relative words in the question name, read on the day `now`."""
    if m := _RECENTLY.search(question):
        return Period(now - timedelta(days=RECENT_DAYS), now, m.group(0), True)
    for pattern in (_PERIOD, _RELATIVE_DAY, _AGO, _ASKED_WEEKDAY):
        m = pattern.search(question)
        if m is None:
            continue
        iso = _relative(m.group(0), now)
        if iso is None:
            return None
        start, end = _span(iso)
        if pattern is _PERIOD and m.group(2).lower() == "week":
            end = start + timedelta(days=6)  # "this week": Monday to Sunday
        elif pattern is _AGO and m.group(2).lower() == "week":  # "two weeks ago": that week
            start = start - timedelta(days=start.weekday())
            end = start + timedelta(days=6)
        elif pattern is _ASKED_WEEKDAY and start > now and m.group(1).lower() != "next":
            start = end = start - timedelta(days=7)  # "on Tuesday", asked on a Monday: last one
        return Period(start, end, m.group(0), True)
    return None


def question_period(question: str, now: date) -> Period | None:
    """Return the period a question names ("in 2019", "last week"...), read on the day `now`."""
    try:
        return _relative_period(question, now) or _absolute_period(question, now)
    except (ValueError, OverflowError):  # "3000 years ago": no calendar day to read it as
        return None


def _absolute_period(question: str, now: date) -> Period | None:
    """Return the period calendar words after "in", "as of", "by"... name ("in June 2020")."""
    for lead in _AS_OF.finditer(question):
        rest = question[lead.end() :]
        for pattern in _PATTERNS:
            m = pattern.match(rest)
            if m is None:
                continue
            iso = _absolute(m.group(0), now)
            if pattern is _PATTERNS[-1] and not _QUESTION_YEAR.fullmatch(m.group(0)):
                continue
            if iso is not None:
                start, end = _span(iso)
                return Period(start, end, question[lead.start() : lead.end() + m.end()], False)
    return None


def names_a_month(text: str) -> bool:
    """Return whether the words name a month ("September 20", "20 Sept. 2012", "March 2011")."""
    return _PATTERNS[2].search(text) is not None


def period_label(period: Period) -> str:
    """Return the period's words without their lead: "in 2019" -> "2019"."""
    m = _AS_OF.match(period.words)
    return period.words[m.end() :] if m else period.words
