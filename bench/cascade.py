"""Choose the reranking cascade's threshold (qa/stages/reranking.py SURE_SCORE) by measurement.

The cross-encoder scores SURE_WINDOWS windows first and skips the rest when the best of them
already scores SURE_SCORE. Each window's score depends on that window alone, so one pass that
scores all of them tells, for every threshold, what the cascade would have ranked first. The
measure needs no gold answer: the share of questions whose top window stays the one that all
windows give, and the share of windows left unscored. The questions are squad-train's (a seeded
sample of its articles): nothing here is a question we report answer quality on.

    .venv/bin/python -m bench.cascade [--articles 10] [--questions 400]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

from bench.common import REPO, VAR, machine_note, say, table
from index.build import build
from index.embedder.runtime import load_embedder
from qa.pipeline import Answerer

SQUAD_TRAIN = REPO.parent / "shared" / "train" / "squad-train"
SEED = 7
FIRST = (4, 6, 8)  # windows scored first (SURE_WINDOWS)
THRESHOLDS = (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, float("inf"))


def sample(articles: int, questions: int) -> tuple[list[str], list[str]]:
    """Return (article files, questions on them): a seeded sample of squad-train."""
    names = sorted(p.name for p in (SQUAD_TRAIN / "articles").glob("*.txt"))
    chosen = set(random.Random(SEED).sample(names, articles))
    rows = [json.loads(line) for line in (SQUAD_TRAIN / "questions.jsonl").open()]
    asked = [r["question"] for r in rows if r["article"] in chosen]
    return sorted(chosen), random.Random(SEED).sample(asked, min(questions, len(asked)))


def copy_articles(files: list[str]) -> Path:
    """Copy the sampled squad-train articles into var/bench/cascade/articles; return it."""
    folder = VAR / "cascade" / "articles"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in files:
        shutil.copy(SQUAD_TRAIN / "articles" / name, folder / name)
    return folder


def record(answerer: Answerer, question: str) -> list[float]:
    """Return every reranked window's score, in the order the selection stage ranked them."""
    calls: list[list[float]] = []
    stage = answerer.reranking
    score = stage._score  # noqa: SLF001 - the bench looks inside the stage it tunes

    def scored(c, windows):  # noqa: ANN001, ANN202
        out = score(c, windows)
        calls.append([s[0].score for s in out])
        return out

    stage._score = scored  # noqa: SLF001
    try:
        answerer.ask(question)
    finally:
        del stage._score
    return [x for call in calls for x in call]


def agreement(runs: list[list[float]], threshold: float, first: int) -> tuple[float, float]:
    """Return (share of tops unchanged, share of windows not scored) when the first `first`
    windows are scored first (the recorded scores are in the order the stage ranked them)."""
    same = skipped = total = 0
    for scores in runs:
        full = max(range(len(scores)), key=scores.__getitem__)
        sure = first < len(scores) and max(scores[:first]) >= threshold
        top = max(range(first), key=scores.__getitem__) if sure else full
        same += top == full
        skipped += len(scores) - first if sure else 0
        total += len(scores)
    return same / len(runs), skipped / max(1, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()
    files, questions = sample(args.articles, args.questions)
    articles = copy_articles(files)
    embedder = load_embedder()
    build(articles, articles.parent / "index", embedder)
    answerer = Answerer.open(articles.parent / "index", embedder)
    answerer.reranking.sure_score = float("inf")  # score every window: the reference
    answerer.reranking.sure_windows = max(FIRST)
    say(f"# cascade: {len(questions)} squad-train questions on {len(files)} articles")
    say(f"# ({machine_note()})")
    runs = [record(answerer, q) for q in questions]
    runs = [r for r in runs if r]
    rows = [
        (first, t, *(f"{x:.3f}" for x in agreement(runs, t, first)))
        for first in FIRST
        for t in THRESHOLDS
    ]
    table(
        "top window unchanged vs windows not scored",
        ("first", "threshold", "same top", "unscored"),
        rows,
    )


if __name__ == "__main__":
    main()
