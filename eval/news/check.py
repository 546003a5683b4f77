#!/usr/bin/env python3
"""Check the hand-made newsqa eval set against the articles as the product reads them.

Run: python eval/news/check.py [-v]
Exits non-zero on any error; prints counts per type and split.
"""

import json
import re
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAIN = HERE.parent.parent
sys.path.insert(0, str(MAIN))
from index.articles import read_article  # noqa: E402

SEEDS = MAIN / "seeds"
TYPES = {
    "person",
    "organization",
    "country",
    "city",
    "location",
    "money",
    "count",
    "number",
    "date",
    "year",
    "percent",
    "product",
    "other",
}
SPLITS = {"calibration", "test"}
N_QUESTIONS, MIN_ARTICLES, MAX_PER_ARTICLE = 160, 70, 3
N_OFF = 60


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def form(q):
    """Rough question form, for the mix report."""
    w = q.lower().split()
    if w[0] in ("which",) or (
        w[0] in ("in", "on", "at", "from", "for") and len(w) > 1 and w[1] == "which"
    ):
        return "which"
    if w[0] in ("who", "whom", "whose"):
        return "who"
    if w[0] == "how" and len(w) > 1 and w[1] in ("much", "many", "big", "large", "thin", "tall"):
        return "how much/many"
    if (
        w[0] in ("when", "since")
        or (
            len(w) > 2
            and w[1] in ("what", "which")
            and w[2] in ("year", "day", "date", "month", "morning")
        )
        or (w[0] == "starting")
        or " what date " in f" {q.lower()} "
        or q.lower().startswith("what is the final day")
    ):
        return "when"
    return "what/where/other"


def main():
    errors = []
    texts = {}
    for p in sorted(SEEDS.iterdir()):
        a = read_article(p)
        texts[p.name] = (a, a.text)

    qs = load(HERE / "questions.jsonl")
    off = load(HERE / "off_topic.jsonl")

    ids = Counter(r["id"] for r in qs + off)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]

    per_article = Counter()
    art_splits = defaultdict(set)
    for r in qs:
        rid = r.get("id")
        for k in ("id", "question", "answers", "article", "type", "split"):
            if k not in r:
                errors.append(f"{rid}: missing field {k}")
        if r.get("article") not in texts:
            errors.append(f"{rid}: unknown article {r.get('article')}")
            continue
        a, text = texts[r["article"]]
        if r["type"] not in TYPES:
            errors.append(f"{rid}: bad type {r['type']}")
        if r["split"] not in SPLITS:
            errors.append(f"{rid}: bad split {r['split']}")
        ans = r["answers"]
        if not (1 <= len(ans) <= 3) or len(set(ans)) != len(ans):
            errors.append(f"{rid}: needs 1-3 distinct answers, has {ans}")
        for s in ans:
            if not s or s != s.strip():
                errors.append(f"{rid}: empty or padded answer {s!r}")
            elif s not in text:
                errors.append(f"{rid}: answer {s!r} not verbatim in {r['article']}")
            if len(s.split()) > 6:
                errors.append(f"{rid}: answer too long {s!r}")
        if "date" in r:
            try:
                d = date.fromisoformat(r["date"])
            except ValueError:
                errors.append(f"{rid}: bad date {r['date']!r}")
            else:
                if a.date is not None and abs((d - a.date.date()).days) > 7:
                    errors.append(f"{rid}: resolved date {d} far from article date {a.date.date()}")
        per_article[r["article"]] += 1
        art_splits[r["article"]].add(r["split"])

    if len(qs) != N_QUESTIONS:
        errors.append(f"expected {N_QUESTIONS} questions, have {len(qs)}")
    if len(per_article) < MIN_ARTICLES:
        errors.append(f"only {len(per_article)} articles used, need {MIN_ARTICLES}")
    errors += [
        f"{a}: {n} questions (max {MAX_PER_ARTICLE})"
        for a, n in per_article.items()
        if n > MAX_PER_ARTICLE
    ]
    errors += [f"{a}: questions in both splits" for a, s in art_splits.items() if len(s) > 1]

    # off-topic: the listed key terms must occur in no article (case-insensitive, whole words)
    if len(off) != N_OFF:
        errors.append(f"expected {N_OFF} off-topic questions, have {len(off)}")
    for r in off:
        rid = r.get("id")
        if r.get("split") not in SPLITS:
            errors.append(f"{rid}: bad split {r.get('split')}")
        if not r.get("absent"):
            errors.append(f"{rid}: no absent terms listed")
        for term in r.get("absent", []):
            pat = r"(?<!\w)" + re.escape(term) + r"(?!\w)"
            hits = [n for n, (a, t) in texts.items() if re.search(pat, f"{a.title}\n{t}", re.I)]
            if hits:
                errors.append(f"{rid}: absent term {term!r} occurs in {hits[:3]}")

    # report
    print(
        f"answerable: {len(qs)} questions over {len(per_article)} articles; off-topic: {len(off)}"
    )
    tab = Counter((r["type"], r["split"]) for r in qs)
    print(f"{'type':<13}{'calibration':>12}{'test':>6}{'total':>7}")
    for t in sorted({r["type"] for r in qs}):
        c, te = tab[(t, "calibration")], tab[(t, "test")]
        print(f"{t:<13}{c:>12}{te:>6}{c + te:>7}")
    sp = Counter(r["split"] for r in qs)
    print(f"{'all':<13}{sp['calibration']:>12}{sp['test']:>6}{len(qs):>7}")
    arts = Counter(next(iter(s)) for s in art_splits.values() if len(s) == 1)
    print("articles per split:", dict(arts))
    print("off-topic per split:", dict(Counter(r["split"] for r in off)))
    forms = Counter(form(r["question"]) for r in qs)
    print("question forms:", {k: f"{v} ({100 * v // len(qs)}%)" for k, v in forms.most_common()})
    print("relative-date questions:", sum(1 for r in qs if "date" in r))
    # informational: answers that also appear in other articles (the question must disambiguate)
    shared = []
    for r in qs:
        others = [n for n, (a, t) in texts.items() if n != r["article"] and r["answers"][0] in t]
        if others and r["type"] not in ("date",):
            answer = r["answers"][0]
            shared.append(f"  {r['id']} {answer!r} also in {len(others)} other article(s)")
    print(
        f"note: {len(shared)} answers also occur in other articles"
        " (questions carry a distinguishing detail)"
    )
    if "-v" in sys.argv:
        print("\n".join(shared))

    if errors:
        print(f"\n{len(errors)} ERROR(S):")
        print("\n".join("  " + e for e in errors))
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
