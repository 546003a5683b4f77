"""Compare answer values as a reader would: "$2.1 billion" = "US$2.1bn" = "2.1 billion dollars".

A timeline lists the distinct values that answer a question, so two wordings of one amount
must count once and two amounts must never merge. Calendar dates become their ISO day (the
date code of qa/text/timeline.py); amounts (currency, number), a bare number matching an
amount of the same size; counts a number; anything else (names, places) the set of its
words, two names being one value when one's words hold the other's ("Ramanathan" and
"Priya Ramanathan").
"""

from __future__ import annotations

import re

from qa.text.timeline import names_a_month, resolve

_SCALE = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
_CURRENCY = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
}
_NUMBER = re.compile(
    r"(?P<pre>us\$|\$|£|€|usd|gbp|eur)?\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*"
    r"(?P<scale>thousand|million|billion|trillion|mn|bn|tn|[kmb])?\b\s*"
    r"(?P<post>dollars?|pounds?|euros?|usd|gbp|eur)?",
    re.I,
)
_WORD = re.compile(r"[^\W_]+")
_SKIP = frozenset({"the", "a", "an", "of", "and", "mr", "ms", "mrs", "dr", "about", "some"})

Key = tuple  # ("amount", cur, n) | ("number", n) | ("date", iso) | ("words", frozenset)


def value_key(text: str) -> Key | None:
    """Return what a value means, for comparison; None if it holds no number and no word."""
    if names_a_month(text) and (day := resolve(text, None)):
        return ("date", day)  # "1 June 2024" is a day, not the number 1
    m = _NUMBER.search(text)
    if m:
        number = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        number *= _SCALE.get(scale, 1.0)
        currency = _CURRENCY.get((m.group("pre") or m.group("post") or "").lower())
        rounded = round(number, 6)
        return ("amount", currency, rounded) if currency else ("number", rounded)
    words = frozenset(w.lower() for w in _WORD.findall(text)) - _SKIP
    return ("words", words) if words else None


def same_value(a: Key, b: Key) -> bool:
    """Return whether two keys name one value (a name's words may hold the other's)."""
    if a[0] == "words" and b[0] == "words":
        return a[1] <= b[1] or b[1] <= a[1]
    if {a[0], b[0]} == {"number", "amount"}:  # "2.1 billion" and "$2.1bn": the currency unsaid
        return a[-1] == b[-1]
    return a == b


def same_text(a: str, b: str) -> bool:
    """Return whether two wordings name one value ("$2.1 billion" and "US$2.1bn")."""
    ka, kb = value_key(a), value_key(b)
    return ka is not None and kb is not None and same_value(ka, kb)
