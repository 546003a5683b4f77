"""Guess what kind of answer a question wants, and find spans of that kind in a text."""

from __future__ import annotations

import re

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_SCALE = r"(?:\s?(?:hundred|thousand|million|billion|trillion|[mMbBkK]n?)\b)?"
_NUM = r"\d[\d,]*(?:\.\d+)?"
_MONEY = re.compile(
    rf"(?:(?:US|USD|A|C|HK|NZ|S|R)?[$€£¥₹]\s?{_NUM}{_SCALE}"
    rf"|{_NUM}{_SCALE}\s?(?:dollars|euros|pounds|yen|yuan|USD|EUR|GBP|cents)\b)(?!\w)"
)
_PERCENT = re.compile(rf"{_NUM}\s?(?:%|percent\b|per cent\b|percentage points?\b)")
_NUMBER = re.compile(
    rf"(?<![\w.]){_NUM}{_SCALE}(?:\s?(?:%|percent\b))?(?![\w-])"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|dozens?|hundreds|thousands|millions)\b",
    re.I,
)
_DATE = re.compile(
    rf"\b{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH}(?:,?\s\d{{4}})?"
    rf"|\b{_MONTH}\s(?:of\s)?\d{{4}}"
    r"|\b(?:early|mid|late)[- ]\d{4}s?\b"
    r"|\b(?:1[0-9]|20)\d{2}s?\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|today|tomorrow"
    r"|last (?:week|month|year)|next (?:week|month|year))\b"
    r"|\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am|pm)\b"
)
# A run of capitalised words, allowing short joiners ("Bank of America", "Jack Ma").
_NAME = re.compile(r"\b[A-Z][\w'’&.-]*(?:\s(?:of|de|van|von|the|and|for|&)?\s?[A-Z][\w'’&.-]*)*")

MONEY, NUMBER, PERCENT, DATE, PERSON, PLACE = (
    "money",
    "number",
    "percent",
    "date",
    "person",
    "place",
)
_KINDS = {
    MONEY: (_MONEY, _NUMBER),
    PERCENT: (_PERCENT, _NUMBER),
    NUMBER: (_NUMBER,),
    DATE: (_DATE,),
    PERSON: (_NAME,),
    PLACE: (_NAME,),
}
_RULES = (
    (
        re.compile(
            r"\b(how much|what (?:price|amount|sum)|cost|worth|valued?|valuation|paid|pay|"
            r"raised?|invest(?:ed|ment)?|fund(?:ing)?)\b",
            re.I,
        ),
        MONEY,
    ),
    (
        re.compile(r"\b(what percent(?:age)?|how many percent|what share|what proportion)\b", re.I),
        PERCENT,
    ),
    (
        re.compile(
            r"\b(how (?:many|long|old|far|large|big|tall|high|fast|often)|what number)\b", re.I
        ),
        NUMBER,
    ),
    (
        re.compile(r"\b(when|what (?:year|date|day|month|time|century|decade)|since when)\b", re.I),
        DATE,
    ),
    (re.compile(r"\b(who|whom|whose)\b", re.I), PERSON),
    (
        re.compile(r"\b(where|what (?:city|country|state|place|town|region|continent))\b", re.I),
        PLACE,
    ),
)
_ENUMERATOR = re.compile(r"(?<![^\n])\d{1,2}\.\s")
_SENTENCE_CAPS = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "It",
        "He",
        "She",
        "They",
        "We",
        "This",
        "That",
        "But",
        "And",
        "For",
        "As",
    ]
)


def answer_kind(question: str) -> str | None:
    """Return the kind of answer a question asks for (money, date, person...), or None."""
    for pattern, kind in _RULES:
        if pattern.search(question):
            # "how much" about money only if money is plausible; numbers are still found.
            return kind
    return None


def find_spans(
    text: str, kind: str | None, question: str = "", *, exact: bool = False
) -> list[tuple[int, int]]:
    """Return (start, end) spans of the wanted kind, not repeating words of the question.

    Without `exact`, a kind with a looser fallback (money -> any number) uses it when the
    strict pattern finds nothing.
    """
    if kind is None:
        return []
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    for pattern in _KINDS[kind][:1] if exact else _KINDS[kind]:
        spans = []
        for m in pattern.finditer(text):
            span = m.group().strip(" ,.")
            if not span:
                continue
            words = re.findall(r"\w+", span)
            if kind in (PERSON, PLACE):
                if span in _SENTENCE_CAPS or all(w.lower() in asked for w in words):
                    continue
            elif words and all(w.lower() in asked for w in words):
                continue
            start = m.start() + m.group().index(span)
            if kind not in (PERSON, PLACE) and _ENUMERATOR.match(text, start):
                continue  # "3. The company..." — a list number, not an answer
            spans.append((start, start + len(span)))
        if spans:
            return spans
    return []
