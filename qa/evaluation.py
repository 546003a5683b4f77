"""Measure answer quality on a folder of articles and questions (SQuAD-style JSONL)."""

from __future__ import annotations

import json
import random
import re
import string
import time
from pathlib import Path

import numpy as np

from index.build import build
from index.embedding import MiniLMEmbedder
from qa.answer import Answer, Answerer

SAMPLE_SEED = 13
TOP = 5


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and articles, fold spaces (SQuAD's answer normalisation)."""
    text = text.lower().replace("’", "'")
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def load_questions(data_dir: Path, limit: int | None = None) -> list[dict]:
    """Read questions.jsonl; sample `limit` of them with a fixed seed."""
    with open(Path(data_dir) / "questions.jsonl", encoding="utf-8") as fh:
        questions = [json.loads(line) for line in fh if line.strip()]
    if limit is not None and limit < len(questions):
        questions = random.Random(SAMPLE_SEED).sample(questions, limit)
    return questions


def first_hit(answer: Answer, golds: list[str]) -> int | None:
    """Return the 1-based rank of the first citation holding a gold answer, or None."""
    wanted = [normalize(g) for g in golds if normalize(g)]
    for rank, citation in enumerate(answer.citations, 1):
        snippet = normalize(citation.snippet)
        if any(g in snippet for g in wanted):
            return rank
    return None


def highlight_hit(answer: Answer, golds: list[str]) -> bool:
    """Return whether the top citation's highlight and a gold answer contain one another."""
    if not answer.citations or not answer.citations[0].highlight:
        return False
    a, b = answer.citations[0].highlight
    marked = normalize(answer.citations[0].snippet[a:b])
    return bool(marked) and any(
        (g := normalize(gold)) and (g in marked or marked in g) for gold in golds
    )


def score(answerer: Answerer, questions: list[dict], **ask_options) -> dict:
    """Ask every question and return hit@1, hit@5, MRR, highlight rate and latency."""
    ranks, marks, seconds = [], [], []
    for q in questions:
        started = time.perf_counter()
        answer = answerer.ask(q["question"], k=TOP, **ask_options)
        seconds.append(time.perf_counter() - started)
        ranks.append(first_hit(answer, q["answers"]))
        marks.append(highlight_hit(answer, q["answers"]))
    n = len(questions) or 1
    return {
        "questions": len(questions),
        "hit@1": sum(r == 1 for r in ranks) / n,
        f"hit@{TOP}": sum(r is not None for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "highlight": sum(marks) / n,
        "p50_ms": float(np.percentile(seconds, 50) * 1000) if seconds else 0.0,
    }


def evaluate(data_dir: Path, index_dir: Path, limit: int | None = None) -> dict:
    """Build (or reuse) the index of data_dir/articles and score the pipeline on its questions."""
    embedder = MiniLMEmbedder()
    build(Path(data_dir) / "articles", index_dir, embedder)
    answerer = Answerer.open(index_dir, embedder)
    questions = load_questions(data_dir, limit)
    return {"data": str(data_dir), "variants": {"dense": score(answerer, questions)}}


def format_table(results: dict) -> str:
    """Render the results as a fixed-width table."""
    head = (
        f"{'variant':<16}{'n':>6}{'hit@1':>8}{'hit@5':>8}{'MRR':>8}{'highlight':>11}{'p50 ms':>9}"
    )
    rows = [head, "-" * len(head)]
    for name, r in results["variants"].items():
        rows.append(
            f"{name:<16}{r['questions']:>6}{r['hit@1']:>8.3f}{r[f'hit@{TOP}']:>8.3f}"
            f"{r['mrr']:>8.3f}{r['highlight']:>11.3f}{r['p50_ms']:>9.1f}"
        )
    return "\n".join(rows)
