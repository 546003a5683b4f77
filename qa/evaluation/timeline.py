"""Score answers that know when (eval/timeline): the value asked for, the timeline, conflicts.

A question of eval/timeline carries a `case` (current, then, conflict, relative, control) and
the gold `timeline` (every distinct value with the day it was first reported). An answer
holds its case when its exact words are a gold answer (and, for a conflict, both values are
marked; for a control, no timeline is given). Timeline recall is the share of gold values
the answer's timeline lists on the right day; precision the share of its values that are
gold ones on the right day.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.answer import Answer
from qa.evaluation.metrics import exact_scores
from qa.text.values import same_text


def judge(answer: Answer, q: dict) -> dict:
    """Return whether the answer holds its case and its timeline's hits against the gold."""
    exact = answer.exact.text if answer.exact else None
    right = exact_scores(exact, q["answers"])[1] >= 0.5  # "Ms Ramanathan" for Priya Ramanathan
    gold = q.get("timeline") or []
    shown = answer.timeline

    def hit(d, g: dict) -> bool:  # noqa: ANN001 - a Dated value: the same value, the same day
        return same_text(d.text, g["text"]) and d.date == g["date"]

    found = sum(any(hit(d, g) for d in shown) for g in gold)
    correct = sum(any(hit(d, g) for g in gold) for d in shown)
    case = q["case"]
    if case == "conflict":
        marked = [d for d in shown if d.conflict]
        held = all(any(same_text(d.text, a) for d in marked) for a in q["answers"])
    elif case == "control":
        held = right and not shown
    else:
        held = right
    if case == "then" and q.get("as_of"):
        held = held and answer.to_json()["as_of"] == q["as_of"]
    return {
        "case": case,
        "held": held,
        "found": found,
        "gold": len(gold) if gold and case != "relative" else 0,
        "correct": correct,
        "shown": len(shown),
    }


def summarize_cases(rows: Sequence[dict]) -> dict:
    """Return cases held (by case and in all), timeline recall and precision."""
    cases: dict[str, list[int]] = {}
    for r in rows:
        held = cases.setdefault(r["case"], [0, 0])
        held[0] += r["held"]
        held[1] += 1
    gold, shown = sum(r["gold"] for r in rows), sum(r["shown"] for r in rows)
    return {
        "held": [sum(r["held"] for r in rows), len(rows)],
        "by_case": cases,
        "timeline_recall": sum(r["found"] for r in rows if r["gold"]) / gold if gold else None,
        "timeline_precision": sum(r["correct"] for r in rows) / shown if shown else None,
    }


def format_cases(name: str, s: dict) -> list[str]:
    """Return the report lines of one variant's timeline scores."""
    by_case = ", ".join(f"{case} {h}/{n}" for case, (h, n) in sorted(s["by_case"].items()))
    recall, precision = s["timeline_recall"], s["timeline_precision"]
    return [
        f"answers that know when ({name}): {s['held'][0]} of {s['held'][1]} held ({by_case}); "
        f"timeline recall {recall if recall is None else round(recall, 3)}, "
        f"precision {precision if precision is None else round(precision, 3)}"
    ]
