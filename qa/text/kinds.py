"""What kind of answer a question asks for, read from the whole question, not only its wh-word.

"which tech company" wants an organisation, "which country" a country, "which pop star" a
person, "what year" a year, "how many" a count. News quizzes are mostly "which X"
questions, so the head noun after which/what decides before the bare wh-word does.
"""

from __future__ import annotations

import re

MONEY, NUMBER, COUNT, PERCENT = "money", "number", "count", "percent"
DATE, YEAR = "date", "year"
PERSON, ORGANIZATION, COUNTRY, CITY, PLACE, NAME = (
    "person",
    "organization",
    "country",
    "city",
    "place",
    "name",
)
NAMES = (PERSON, ORGANIZATION, COUNTRY, CITY, PLACE, NAME)  # answered by a capitalised name
DATES = (DATE, YEAR)

# "which tech company", "what French carmaker": one modifier word may sit before the head noun.
_WHICH = r"\b(?:which|what|in which|in what)(?: [\w-]+)?? "
_PEOPLE = (
    r"person|people|man|woman|singer|star|actor|actress|player|footballer|athlete|president|"
    r"ceo|chief executive|founder|co-founder|executive|leader|politician|author|writer|"
    r"journalist|reporter|minister|king|queen|prince|musician|rapper|artist|director|coach|"
    r"billionaire|entrepreneur|scientist|engineer|analyst|spokesperson|spokesman|spokeswoman|"
    r"chairman|chairwoman|official|senator|governor|mayor|judge|lawyer|economist|designer"
)
_ORGANIZATIONS = (
    r"company|companies|firm|startup|start-up|business|brand|bank|network|broadcaster|"
    r"newspaper|paper|magazine|publication|outlet|site|website|app|service|platform|carmaker|"
    r"automaker|retailer|manufacturer|maker|chipmaker|giant|agency|organi[sz]ation|team|club|"
    r"university|college|school|party|group|conglomerate|investor|fund|lender|airline|"
    r"operator|provider|studio|label|exchange|regulator|unicorn|rival|competitor|subsidiary"
)
# The first rule that matches (at the question's start, or after a preposition) decides:
# "when did Alibaba invest?" wants a date, not money; "which company's CEO" a person.
_RULES_TEXT = (
    (r"\bhow much\b|\bwhat (?:price|amount|sum)\b", MONEY),
    (r"\bwhat (?:percent(?:age)?|share|proportion|fraction)\b|\bhow many percent\b", PERCENT),
    (r"\bhow many\b|\bwhat number of\b", COUNT),
    (
        r"\bhow (?:long|old|far|large|big|tall|high|fast|often|deep|wide|heavy)\b"
        r"|\bwhat (?:number|size|length|distance|population|age)\b",
        NUMBER,
    ),
    (rf"{_WHICH}year\b", YEAR),
    (
        r"\bwhen\b|\bsince when\b|\b(?:what|which|in what) (?:date|day|month|time|"
        r"century|decade|era|period|season)\b",
        DATE,
    ),
    (r"\b(?:who|whom|whose)\b", PERSON),
    (rf"{_WHICH}(?:[\w-]+(?:'s|’s) )?(?:{_PEOPLE})s?\b", PERSON),
    (rf"{_WHICH}(?:country|countries|nation)\b", COUNTRY),
    (rf"{_WHICH}(?:city|cities|town)\b", CITY),
    (
        r"\bwhere\b|\b(?:what|which|in what|in which) (?:state|place|region|continent|area|"
        r"county|province|location|island|river)\b",
        PLACE,
    ),
    (rf"{_WHICH}(?:{_ORGANIZATIONS})\b", ORGANIZATION),
    (r"\bwhich\b|\bwhat (?:is|was|were|are) the name\b", NAME),
)
# Without a telling question word, the topic may still say the answer is an amount of money.
_TOPIC_RULES = (
    (
        r"\b(?:cost|worth|valued|valuation|paid|pay|price|raised?|invest(?:ed|ment)?|funding)\b",
        MONEY,
    ),
)
_RULES = tuple((re.compile(p, re.I), kind) for p, kind in _RULES_TEXT + _TOPIC_RULES)
_LEADS = frozenset(("in", "from", "to", "by", "for", "of", "on", "at", "during", "since", "and"))


def answer_kind(question: str) -> str | None:
    """Return the kind of answer a question asks for (money, year, country...), or None."""
    for pattern, kind in _RULES:
        for m in pattern.finditer(question):
            # "What does Doctor Who do?": a capitalised wh-word inside a question is a name.
            lead = question[: m.start()].strip().lower()
            if question[m.start()].islower() or not lead or lead in _LEADS:
                return kind
    return None
