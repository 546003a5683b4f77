"""Weigh the span reader against the cross-encoder, and choose when to refuse, by replay.

Two constants decide with the reader's help (qa/stages/extraction.py, qa/stages/decision.py):
W_SPAN, the logits a sure span adds to its window among the first READ_WINDOWS, and
ABSTAIN_LOGIT, below which the top window's logit says "the articles don't cover this". One
pass records, per question, the first windows after reranking (score, logit, the reader's
span and probability, whether the window holds a gold answer); every setting is then replayed
from the record. Questions come from sets nothing reports quality on:

- squad-train: bench/cascade.py's seeded 10 articles indexed; questions on them are
  answerable, questions on other squad-train articles are off-topic in the same style;
- eval/news, its calibration split only, over the default corpus.

The reader learnt from squad-train, so its probabilities there flatter it: news is the check.

    .venv/bin/python -m bench.calibration [--questions 300] [--w-span 2.0]

The record is kept in var/bench/calibration-<questions>.pickle (delete it after changing the
pipeline up to reranking or the reader).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
from dataclasses import dataclass

from bench.cascade import SEED, SQUAD_TRAIN, copy_articles, sample
from bench.common import REPO, VAR, machine_note, real_index, say, table
from index.build import build
from index.embedder.runtime import load_embedder
from qa.evaluation.metrics import exact_scores
from qa.evaluation.run import contains, normalize
from qa.pipeline import Answerer
from qa.query import Request
from qa.stages.extraction import READ_WINDOWS, W_KIND, W_SPAN

SPAN_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
LOGITS = (-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0)
SURE = (1.01, 0.9, 0.7)  # refuse a weak logit unless the reader is this sure (1.01: never)


@dataclass(frozen=True)
class Window:
    """One window as the extraction stage sees it, and what the gold answers say of it."""

    score: float  # after reranking (logit + bonuses)
    logit: float
    own: float  # the reader's best probability inside the window
    typed: bool
    words: str  # the reader's answer
    hit: bool  # the window holds a gold answer
    f1: float  # of the reader's answer


def record(answerer: Answerer, question: str, golds: list[str]) -> list[Window]:
    """Run the stages up to reranking and read the first windows as extraction does."""
    c = answerer.candidates(Request.check(question, 5))
    for stage in (answerer.search, answerer.selection, answerer.reranking):
        c = stage(c)
    head = list(c.windows[:READ_WINDOWS])
    found = answerer.extraction.read_windows(c, head) if head else []
    wanted = [normalize(g) for g in golds]
    out = []
    for w, logit, f in zip(head, c.logits, found, strict=False):
        words = f.words(w) if f else ""
        hit = any(contains(normalize(w.text), g) for g in wanted)
        f1 = exact_scores(words or None, golds)[1] if golds else 0.0
        own, typed = (f.own, f.typed) if f else (0.0, False)
        out.append(Window(w.score, logit, own, typed, words, hit, f1))
    return out


def replay(run: list[Window], w_span: float) -> Window | None:
    """Return the window extraction puts first with this W_SPAN."""
    return max(run, key=lambda w: w.score + w_span * w.own + W_KIND * w.typed, default=None)


def refused(top: Window | None, logit: float, sure: float) -> bool:
    """Return whether the decision refuses: a weak logit, unless the reader is sure."""
    return top is None or (top.logit < logit and top.own < sure)


def share(runs: list[list[Window]], w_span: float, logit: float, sure: float) -> float:
    """Return the share of questions refused."""
    return sum(refused(replay(r, w_span), logit, sure) for r in runs) / len(runs)


def squad_train(embedder, questions: int) -> tuple[list, list]:  # noqa: ANN001
    """Record squad-train questions on the indexed sample and on articles outside it."""
    files, _ = sample(10, questions)
    rows = [json.loads(line) for line in (SQUAD_TRAIN / "questions.jsonl").open()]
    chosen = set(files)
    mine = [r for r in rows if r["article"] in chosen]
    others = [r for r in rows if r["article"] not in chosen]
    asked = random.Random(SEED).sample(mine, questions)
    off = random.Random(SEED).sample(others, questions // 2)
    articles = copy_articles(files)  # bench/cascade.py's articles, and its index folder
    build(articles, articles.parent / "index", embedder)
    answerer = Answerer.open(articles.parent / "index", embedder)
    ok = [record(answerer, r["question"], r["answers"]) for r in asked]
    return ok, [record(answerer, r["question"], []) for r in off]


def news(embedder) -> tuple[list, list]:  # noqa: ANN001
    """Record eval/news calibration questions and its calibration off-topic questions."""

    def load(name: str) -> list[dict]:
        rows = [json.loads(line) for line in (REPO / "eval/news" / name).open()]
        return [r for r in rows if r["split"] == "calibration"]

    answerer = Answerer.open(real_index(), embedder)
    ok = [record(answerer, r["question"], r["answers"]) for r in load("questions.jsonl")]
    return ok, [record(answerer, r["question"], []) for r in load("off_topic.jsonl")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--w-span", type=float, default=W_SPAN, help="for the refusal table")
    args = parser.parse_args()
    cached = VAR / f"calibration-{args.questions}.pickle"  # the record, for replaying again
    if cached.is_file():
        sets = pickle.loads(cached.read_bytes())
    else:
        embedder = load_embedder()
        sets = {"squad-train": squad_train(embedder, args.questions), "news": news(embedder)}
        cached.write_bytes(pickle.dumps(sets))
    say(f"# reader calibration by replay ({machine_note()})")
    for name, (ok, off) in sets.items():
        say(f"{name}: {len(ok)} answerable, {len(off)} off-topic questions")
    rows = []
    for w_span in SPAN_WEIGHTS:
        row = [w_span]
        for ok, _ in sets.values():
            tops = [replay(run, w_span) for run in ok]
            row += [f"{sum(t is not None and t.hit for t in tops) / len(ok):.3f}",
                    f"{sum(t.f1 for t in tops if t) / len(ok):.3f}"]  # fmt: skip
        rows.append(row)
    heads = ["W_SPAN"] + [f"{n} {m}" for n in sets for m in ("hit@1", "exact F1")]
    table("the top window and its answer, by W_SPAN (answerable questions)", heads, rows)
    rows = []
    for logit in LOGITS:
        for sure in SURE:
            row = [logit, "never" if sure > 1 else sure]
            for ok, off in sets.values():
                row += [f"{share(ok, args.w_span, logit, sure):.3f}",
                        f"{share(off, args.w_span, logit, sure):.3f}"]  # fmt: skip
            rows.append(row)
    heads = ["logit <", "unless reader >="]
    heads += [f"{n} {m}" for n in sets for m in ("refused", "caught")]
    table(f"refusing (W_SPAN {args.w_span}): answerable refused, off-topic caught", heads, rows)


if __name__ == "__main__":
    main()
