"""Resolve a follow-up question in a chat against the turns before it, deterministically.

"and when did that happen?" after "how much did Alibaba invest?" is searched as
"and when did that happen? Alibaba invest", and the article that answered the previous turn
gets a soft boost (it is preferred, never required).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from qa.query import Turn
from qa.text.dedup import near_copy, shingles
from qa.text.terms import STOPWORDS

# Words that point back at something said before.
_REFERRING_TEXT = "it its it's that this these those they them their theirs he him his she her \
there then such same former latter"
_REFERRING = frozenset(_REFERRING_TEXT.split())
_OPENERS = re.compile(r"^\s*(?:and|but|so|also|what about|how about|then)\b", re.I)
# Question words and fillers: never worth carrying into the next question.
_FILLER_TEXT = "how much many what which who whom whose when where why did does do happen \
happened tell know about please"
_NOT_CARRIED = STOPWORDS | frozenset(_FILLER_TEXT.split())
_DROPPED = _REFERRING | frozenset(("and", "but", "so", "also", "then", "happen", "happened"))
_WORD = re.compile(r"[\w$€£%]+(?:[.'’][\w]+)*")
MIN_OWN_TERMS = 2  # a question with fewer content words of its own leans on the chat
# Words carried from earlier turns, at most: a topic takes a few, and 20 long turns would
# otherwise make a query of thousands of words for BM25 and the models to chew on.
MAX_CARRIED = 24


@dataclass(frozen=True)
class Query:
    """A question as asked, what to search for, and an article to prefer."""

    question: str  # decides the kind of answer and the highlight
    text: str  # searched: the question plus words carried from earlier turns
    article_id: str | None = None  # the article that answered the previous turn

    @property
    def carried(self) -> bool:
        """Return whether anything was taken from the chat history."""
        return self.text != self.question or self.article_id is not None


def content_words(text: str) -> list[str]:
    """Return the words of text worth carrying into a follow-up, in order, without repeats."""
    seen: dict[str, str] = {}
    for word in _WORD.findall(text):
        if word.lower() not in _NOT_CARRIED and word.lower() not in seen:
            seen[word.lower()] = word
    return list(seen.values())


def is_follow_up(question: str) -> bool:
    """Return whether a question refers back to the chat ("who runs it?", "and when?")."""
    words = {w.lower() for w in _WORD.findall(question)}
    return (
        bool(words & _REFERRING)
        or bool(_OPENERS.match(question))
        or len(content_words(question)) < MIN_OWN_TERMS
    )


def resolve(
    question: str,
    history: Sequence[Turn],
    locate: Callable[[str], str | None] = lambda answer: None,
) -> Query:
    """Return the query for a question given the chat so far (oldest turn first).

    Words are carried back through a chain of follow-ups to the turn that started the topic;
    `locate` maps the last answer's text to the article it was copied from.
    """
    if not history or not is_follow_up(question):
        return Query(question, question)
    own = {w.lower() for w in content_words(question)}
    carried: list[str] = []
    for turn in reversed(history):
        for word in content_words(turn.question):
            if word.lower() not in own and word not in carried:
                carried.append(word)
        if not is_follow_up(turn.question):
            break  # this turn set the topic; earlier ones are another conversation
    carried = carried[:MAX_CARRIED]  # the latest turns' words come first
    last = history[-1]
    article_id = locate(last.answer) if last.answer else None
    # "and when did that happen?" + "Alibaba invest" -> "when did Alibaba invest": the pointing
    # words go, the carried ones take their place (the reranker reads this like a question).
    kept = [w for w in question.rstrip(" ?").split() if w.lower().strip(",.") not in _DROPPED]
    text = " ".join(kept + carried) + "?"
    return Query(question, text, article_id)


# The previous answer's article is preferred for a follow-up: a bonus on the fused passage
# score (a share of their spread), and in logits after reranking. Soft: a better passage
# elsewhere still wins.
FOLLOW_UP_BOOST = 0.5
FOLLOW_UP_LOGIT = 2.0
T = TypeVar("T")


def _text(snippet: Any) -> str:
    return snippet.text


@dataclass(frozen=True)
class FollowUp:
    """The one policy for a follow-up question, applied by each stage at its named point.

    Without a previous answer's article (not a follow-up, or an answer we can't place) every
    method is a no-op, so the stages need not ask.
    """

    article_id: str | None = None  # the article the previous answer was copied from
    given: frozenset = frozenset()  # word pairs of the previous answer

    @classmethod
    def of(cls, query: Query, history: Sequence[Turn]) -> FollowUp:
        """Return the policy for a resolved query (the history it was resolved against)."""
        if query.article_id is None or not history or not history[-1].answer:
            return cls()
        return cls(query.article_id, shingles(history[-1].answer))

    def boost(self, passages: Sequence, scores: Sequence[float]) -> list[float]:
        """Raise the fused scores of the previous article's passages (selection stage)."""
        if self.article_id is None:
            return list(scores)
        spread = (max(scores) - min(scores)) if scores else 0.0
        return [
            s + FOLLOW_UP_BOOST * (spread or 1.0) * (p.article.id == self.article_id)
            for s, p in zip(scores, passages, strict=True)
        ]

    def demote_repeats(self, items: Sequence[T], text: Callable[[T], str] = _text) -> list[T]:
        """Move snippets repeating the previous answer last: a follow-up asks for something new."""
        if not self.given:
            return list(items)
        return sorted(items, key=lambda w: near_copy(shingles(text(w)), self.given))

    def logit_bonus(self, article_id: str) -> float:
        """Return the reranking bonus of a snippet from this article."""
        return FOLLOW_UP_LOGIT if article_id == self.article_id else 0.0

    def keeps_topic(self, article_id: str) -> bool:
        """Return whether an answer from this article stays on the chat's topic.

        Its lower scores then come from the pointing words ("it", "that"), not from a topic
        the articles don't cover, so the answer is not refused.
        """
        return self.article_id is not None and article_id == self.article_id
