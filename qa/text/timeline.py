"""Ground the dates in an answer: "yesterday" in an article of 21 Sep 2012 is 2012-09-20.

News text dates things relative to the day it was published. A reader in 2026 needs the day
itself, so an answer's words are resolved against the article's date. The result is an ISO
8601 string at the precision the words give: a day (2012-09-20), a month (2012-03) or a year
(2011). Words that name no time, or a time that can't be placed, resolve to None.
"""

from __future__ import annotations

import re
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
        return str(published.year - n)
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
    if published is None:
        found = _absolute(text, date(9999, 12, 31))
        return found if found and not found.startswith("9999") else None
    return _relative(text, published) or _absolute(text, published)


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
