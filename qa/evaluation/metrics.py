"""SQuAD's exact-answer scores: exact match and token F1 after its normalisation."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCTUATION = frozenset(string.punctuation)


def squad_normalize(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, fold spaces (SQuAD v1.1)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(prediction: str, gold: str) -> float:
    """Return the token F1 of a predicted answer against one gold answer."""
    pred, ref = squad_normalize(prediction).split(), squad_normalize(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref:
        return float(pred == ref)
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_scores(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """Return (exact match, F1), each the best over the gold answers; no prediction scores 0."""
    if not prediction or not golds:
        return 0.0, 0.0
    em = max(float(squad_normalize(prediction) == squad_normalize(g)) for g in golds)
    return em, max(f1(prediction, g) for g in golds)
