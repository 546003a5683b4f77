"""Find the spans of a text that are of the kind of answer a question wants (qa.text.kinds)."""

from __future__ import annotations

import re

from index.stores.bm25 import terms
from qa.text.gazetteer import is_city, is_country
from qa.text.kinds import (
    CITY,
    COUNT,
    COUNTRY,
    DATE,
    MONEY,
    NAME,
    NAMES,
    NUMBER,
    ORGANIZATION,
    PERCENT,
    PERSON,
    PLACE,
    YEAR,
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_SCALE = r"(?:\s?(?:hundred|thousand|million|billion|trillion|[mMbBkK]n?)\b)?"
_NUM = r"\d[\d,]*(?:\.\d+)?"
_WORDNUM = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|a dozen|dozens?|hundreds|thousands|millions|billions)"
)
_UNIT_WORDS = (
    r"(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century|"
    r"miles?|kilometres?|kilometers?|km|metres?|meters?|feet|foot|inches|acres|"
    r"square (?:miles|kilometres|kilometers|feet|metres|meters)|people|times|points|"
    r"ft|m|cm|mm|kg|lbs?|tonnes|tons|mph|degrees)"
)
_UNIT = rf"(?:\s{_UNIT_WORDS}\b)?"
_ENDS_IN_UNIT = re.compile(rf"\s{_UNIT_WORDS}$")
_MONEY = re.compile(
    rf"(?:(?:US|USD|A|C|HK|NZ|S|R)?[$€£¥₹]\s?{_NUM}{_SCALE}"
    rf"|{_NUM}{_SCALE}\s?(?:dollars|euros|pounds|yen|yuan|USD|EUR|GBP|cents)\b)(?!\w)"
)
_PERCENT = re.compile(rf"{_NUM}\s?(?:%|percent\b|per cent\b|percentage points?\b)")
_NUMBER = re.compile(
    rf"(?<![\w.]){_NUM}{_SCALE}(?:\s?(?:%|percent\b))?{_UNIT}(?![\w-])"
    rf"|\b{_WORDNUM}(?:[- ]{_WORDNUM})*{_UNIT}\b",
    re.I,
)
_DATE = re.compile(
    rf"\b{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH}(?:,?\s\d{{4}})?"
    rf"|\b{_MONTH}\s(?:of\s)?\d{{4}}"
    r"|\b(?:early|mid|late)[- ]\d{4}s?\b"
    r"|\b(?:1[0-9]|20)\d{2}s?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th) century\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|tomorrow"
    r"|last (?:week|month|year)|next (?:week|month|year))\b"
    r"|\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am|pm)\b"
)
# A run of capitalised words, allowing short joiners ("Bank of America", "Jack Ma").
_CAPWORD = r"[A-Z](?:[\w'’&-]|\.(?=\w))*"  # a period only inside, as in "U.S"
_NAME = re.compile(rf"\b{_CAPWORD}(?:\s(?:of|de|van|von|the|and|for|&)?\s?{_CAPWORD})*")

_YEAR_ONLY = re.compile(r"\b(?:1[0-9]|20)\d\d\b")


def _not_year(span: str) -> bool:
    """Return whether a number is something else than a bare year ("how many" is no 2012)."""
    return not _YEAR.fullmatch(span)


def _organization(name: str) -> bool:
    """Return whether a name may be an organisation: at least no country or city."""
    return not (is_country(name) or is_city(name))


# Per kind, the patterns to try in order (a later one only when the earlier find nothing),
# each with a test a match must pass: "which country" wants a name the gazetteer knows as a
# country, and falls back to any name only when the text holds none.
_PATTERNS = {
    MONEY: ((_MONEY, None), (_NUMBER, None)),
    PERCENT: ((_PERCENT, None), (_NUMBER, None)),
    NUMBER: ((_NUMBER, None),),
    COUNT: ((_NUMBER, _not_year),),
    DATE: ((_DATE, None),),
    YEAR: ((_YEAR_ONLY, None), (_DATE, None)),
    PERSON: ((_NAME, None),),
    ORGANIZATION: ((_NAME, _organization), (_NAME, None)),
    COUNTRY: ((_NAME, is_country), (_NAME, None)),
    CITY: ((_NAME, is_city), (_NAME, None)),
    PLACE: ((_NAME, None),),
    NAME: ((_NAME, None),),
}
_ENUMERATOR = re.compile(r"(?<![^\n])\d{1,2}\.\s")
# Capitalised only because they open a sentence, or calendar words: never a name on their own.
_NOT_NAME_TEXT = """
    The A An In On At It He She They We This That These Those But And For As If When While
    After Before Since During Its His Her Their Our My Your There Here Then However Also
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December I Mr Mrs Ms Dr
    CEO CTO CFO COO Chief President Chairman Chairwoman Founder Director Senator Governor
    Professor General
"""
_NOT_NAMES = frozenset(_NOT_NAME_TEXT.split())
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|into|across|outside|inside)\s$", re.I)
_WORD = re.compile(r"\w+")
_CURRENCY = frozenset("$€£¥₹")
_YEAR = re.compile(r"(?:1[0-9]|20)\d\d")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)[\"'“‘(]?$")


def _trim_name(text: str, start: int, end: int, asked: set[str]) -> tuple[int, int] | None:
    """Drop leading/trailing words of a name run that the question already says, or 'The'.

    What is left of a name the question itself names ("Group" of "Alibaba Group") is no
    answer: a run cut down to one word because of asked words is dropped.
    """
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    cut = False
    while words and (
        text[words[0][0] : words[0][1]] in _NOT_NAMES
        or text[words[0][0] : words[0][1]].lower() in asked
        or text[words[0][0]].islower()
    ):
        cut |= text[words[0][0] : words[0][1]].lower() in asked
        words.pop(0)
    while words and (
        text[words[-1][0] : words[-1][1]].lower() in asked or text[words[-1][0]].islower()
    ):
        cut |= text[words[-1][0] : words[-1][1]].lower() in asked
        words.pop()
    if not words or (cut and len(words) == 1):
        return None
    return words[0][0], words[-1][1]


def find_spans(
    text: str, kind: str | None, question: str = "", *, exact: bool = False, context: str = ""
) -> list[tuple[int, int]]:
    """Return (start, end) spans of the wanted kind, not repeating words of the question.

    Without `exact`, a kind with a looser fallback (money -> any number) uses it when the
    strict pattern finds nothing.
    """
    if kind is None:
        return []
    asked = {w.lower() for w in _WORD.findall(f"{question} {context}")}
    for pattern, accept in _PATTERNS[kind][:1] if exact else _PATTERNS[kind]:
        spans = []
        for m in pattern.finditer(text):
            if kind in NAMES:
                trimmed = _trim_name(text, m.start(), m.end(), asked)
                if trimmed is None or text[trimmed[1] : trimmed[1] + 1] in _CURRENCY:
                    continue  # "US" of "US$200 million" is no name
                if accept is None or accept(text[trimmed[0] : trimmed[1]]):
                    spans.append(trimmed)
                continue
            span = m.group().strip(" ,.")
            words = _WORD.findall(span)
            if not span or (words and all(w.lower() in asked for w in words)):
                continue
            start = m.start() + m.group().index(span)
            if _ENUMERATOR.match(text, start) or (accept and not accept(span)):
                continue  # "3. The company..." is a list number, not an answer
            spans.append((start, start + len(span)))
        if spans:
            return spans
    return []


def best_span(
    text: str, kind: str | None, question: str, context: str = ""
) -> tuple[int, int] | None:
    """Return the span of the wanted kind nearest to the words the text shares with the question.

    The answer to a question usually sits next to the words that restate it ("will invest
    US$200 million"), so among several candidates the closest to those anchors wins.
    """
    spans = find_spans(text, kind, question, context=context)
    if len(spans) < 2:
        return spans[0] if spans else None
    wanted = set(terms(question))
    anchors = [
        m.start() for m in _WORD.finditer(text) if (stem := terms(m.group())) and stem[0] in wanted
    ]

    def distance(span: tuple[int, int]) -> tuple[float, int]:
        a, b = span
        outside = [p for p in anchors if not a <= p < b]
        gap = min((a - p if p < a else p - b for p in outside), default=len(text))
        if kind in (PLACE, CITY, COUNTRY) and _PLACE_CUE.search(text[max(0, a - 12) : a]):
            gap -= 15  # "in Santa Clara": a preposition of place is strong evidence
        if kind in (NUMBER, COUNT, MONEY, PERCENT) and _YEAR.fullmatch(text[a:b]):
            gap += 30  # a bare year is rarely the amount asked for
        if kind in (NUMBER, COUNT) and _ENDS_IN_UNIT.search(text[a:b]):
            gap -= 20  # "617 ft", "three years": a measured quantity, more likely than a count
        if kind in NAMES and " " not in text[a:b] and _SENTENCE_START.search(text[:a]):
            gap += 40  # one capitalised word opening a sentence is often no name at all
        return gap, a

    return min(spans, key=distance)
