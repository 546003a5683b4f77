"""Measure answer quality on a folder of articles and questions (SQuAD-style JSONL)."""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

from index.embedder.runtime import Embedder
from index.settings import Settings
from index.stores import store_backend
from qa.answer import Answer
from qa.evaluation.metrics import exact_scores
from qa.evaluation.timeline import format_cases, judge, summarize_cases
from qa.pipeline import Answerer, answerer_options
from qa.text.kinds import answer_kind

SAMPLE_SEED = 13
TOP = 5
# The variants compared in one run: (name, retrieval mode, rerank).
VARIANTS = (
    ("bm25", "bm25", False),
    ("dense", "dense", False),
    ("hybrid", "hybrid", False),
    ("hybrid+rerank", "hybrid", True),
)
# Questions no news article answers ("what is the capital of Mars?"): abstention must say so.
OFF_TOPIC = Path(__file__).resolve().parents[1] / "data" / "off_topic.txt"


def normalize(text: str) -> str:
    """Lower-case, drop punctuation, symbols and articles, fold spaces (after SQuAD's).

    Punctuation becomes a space rather than nothing, so whole-word matching still sees
    "1347" in "(1277–1347)" and "1,000,000" in "US$1,000,000".
    """
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _jsonl(path: Path, split: str | None) -> list[dict]:
    """Read the records of a JSONL file (only those of `split`, if given)."""
    with open(path, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return [r for r in records if split is None or r.get("split") == split]


def load_questions(
    data_dir: Path,
    limit: int | None = None,
    articles: Collection[str] | None = None,
    split: str | None = None,
) -> list[dict]:
    """Read questions.jsonl (only those on `articles`, of `split`); sample `limit` of them."""
    questions = _jsonl(Path(data_dir) / "questions.jsonl", split)
    if articles is not None:
        questions = [q for q in questions if q.get("article") in articles]
    if limit is not None and limit < len(questions):
        questions = random.Random(SAMPLE_SEED).sample(questions, limit)
    return questions


def load_off_topic(path: Path = OFF_TOPIC, split: str | None = None) -> list[str]:
    """Read one question per line (# comments skipped), or JSONL records with a "question"."""
    if Path(path).suffix == ".jsonl":
        return [r["question"] for r in _jsonl(Path(path), split)]
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def contains(text: str, gold: str) -> bool:
    """Return whether normalised gold occurs in normalised text as whole words."""
    return bool(gold) and f" {gold} " in f" {text} "


def first_hit(answer: Answer, golds: list[str]) -> int | None:
    """Return the 1-based rank of the first citation holding a gold answer, or None."""
    wanted = [normalize(g) for g in golds]
    for rank, citation in enumerate(answer.citations, 1):
        snippet = normalize(citation.snippet)
        if any(contains(snippet, g) for g in wanted):
            return rank
    return None


def highlight_hit(answer: Answer, golds: list[str]) -> bool:
    """Return whether the top citation's highlight and a gold answer contain one another."""
    words = answer.citations[0].marked if answer.citations else None
    if words is None:
        return False
    marked = normalize(words)
    return any(contains(marked, g) or contains(g, marked) for g in (normalize(x) for x in golds))


def calibrate(answerable: Sequence[float], off_topic: Sequence[float]) -> float:
    """Return the threshold best separating the two confidence lists (balanced accuracy)."""
    pos, neg = np.sort(answerable), np.sort(off_topic)
    values = np.unique(np.concatenate([pos, neg]))
    best, best_cut = -1.0, 0.0
    for i, cut in enumerate(values):
        # Abstain below cut: answerable kept = share >= cut; off-topic caught = share < cut.
        kept = 1 - np.searchsorted(pos, cut) / len(pos)
        caught = np.searchsorted(neg, cut) / len(neg)
        if (kept + caught) / 2 > best:
            # Midway between neighbouring scores: the same split, with the widest margin.
            best, best_cut = (kept + caught) / 2, float(cut + values[i - 1]) / 2 if i else cut
    return round(float(best_cut), 3)


def abstention(answerable: Sequence[float], off_topic: Sequence[float], threshold: float) -> dict:
    """Return precision and recall of abstaining below threshold on off-topic questions."""
    wrong = sum(c < threshold for c in answerable)  # answerable questions refused
    right = sum(c < threshold for c in off_topic)
    return {
        "threshold": threshold,
        "precision": right / (right + wrong) if right + wrong else 1.0,
        "recall": right / len(off_topic) if off_topic else 0.0,
        "answered": 1 - wrong / len(answerable) if answerable else 0.0,
        "calibrated": calibrate(answerable, off_topic) if answerable and off_topic else None,
    }


def collect(
    answerer: Answerer,
    questions: list[dict],
    off_topic: Sequence[str] = (),
    variants: Sequence[tuple[str, str, bool]] = VARIANTS,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Ask every question under every variant, interleaved so timings are side by side."""
    lists = ("ranks", "marks", "seconds", "conf", "off", "em", "f1", "kinds", "dates", "cases")
    stats = {name: {**{k: [] for k in lists}, "threshold": 0.0} for name, _, _ in variants}
    for n, q in enumerate([*questions, *({"question": t} for t in off_topic)], 1):
        for name, mode, rerank in variants:
            started = time.perf_counter()
            answer = answerer.ask(
                q["question"], k=TOP, mode=mode, rerank=rerank, explain=True, now=q.get("now")
            )
            took = time.perf_counter() - started
            s = stats[name]
            confidence = answer.explanation.confidence if answer.explanation else float("-inf")
            s["threshold"] = answer.explanation.threshold if answer.explanation else 0.0
            if "answers" not in q:
                s["off"].append(confidence)
                continue
            s["seconds"].append(took)
            s["conf"].append(confidence)
            s["ranks"].append(first_hit(answer, q["answers"]))
            s["marks"].append(highlight_hit(answer, q["answers"]))
            em, f1 = exact_scores(answer.exact.text if answer.exact else None, q["answers"])
            s["em"].append(em)
            s["f1"].append(f1)
            s["kinds"].append(answer_kind(q["question"]) or "other")
            if "case" in q:  # eval/timeline: the value as of when, the timeline, conflicts
                s["cases"].append(judge(answer, q))
            if "date" in q:  # the words are a relative date: was it resolved to this day?
                s["dates"].append(bool(answer.exact) and answer.exact.date == q["date"])
        if progress:
            progress(n, len(questions) + len(off_topic))
    return stats


def merge(parts: Sequence[dict]) -> dict:
    """Join the per-question lists that several workers collected."""
    out: dict = {}
    for part in parts:
        for name, s in part.items():
            mine = out.setdefault(name, {k: [] for k in s if k != "threshold"})
            for key, values in s.items():
                if key == "threshold":
                    mine["threshold"] = values
                else:
                    mine[key].extend(values)
    return out


def by_type(s: dict) -> dict:
    """Return n, hit@1, exact EM and F1 for each kind of answer asked for (who, when...)."""
    out = {}
    for kind in sorted(set(s["kinds"])):
        rows = [i for i, k in enumerate(s["kinds"]) if k == kind]
        out[kind] = {
            "questions": len(rows),
            "hit@1": sum(s["ranks"][i] == 1 for i in rows) / len(rows),
            "exact_em": sum(s["em"][i] for i in rows) / len(rows),
            "exact_f1": sum(s["f1"][i] for i in rows) / len(rows),
        }
    return out


def summarize(stats: dict) -> dict:
    """Turn collected lists into hit@1, hit@5, MRR, highlight rate, p50 latency, abstention."""
    out = {}
    for name, s in stats.items():
        ranks, total = s["ranks"], len(s["ranks"]) or 1
        out[name] = {
            "questions": len(ranks),
            "hit@1": sum(r == 1 for r in ranks) / total,
            f"hit@{TOP}": sum(r is not None for r in ranks) / total,
            "mrr": sum(1 / r for r in ranks if r) / total,
            "highlight": sum(s["marks"]) / total,
            "exact_em": sum(s["em"]) / total,
            "exact_f1": sum(s["f1"]) / total,
            "by_type": by_type(s),
            "p50_ms": float(np.percentile(s["seconds"], 50) * 1000) if s["seconds"] else 0.0,
        }
        if s["dates"]:
            out[name]["dates_resolved"] = [sum(s["dates"]), len(s["dates"])]
        if s["cases"]:
            out[name]["when"] = summarize_cases(s["cases"])
        if s["off"] and s["threshold"] is not None:
            out[name]["abstention"] = abstention(s["conf"], s["off"], s["threshold"])
    return out


def score(
    answerer: Answerer,
    questions: list[dict],
    off_topic: Sequence[str] = (),
    variants: Sequence[tuple[str, str, bool]] = VARIANTS,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Ask every question under every variant and summarise (one process)."""
    return summarize(collect(answerer, questions, off_topic, variants, progress))


def _answerer(index_dir: Path, embedder: Embedder, settings: Settings) -> Answerer:
    """Open the evaluated index with the settings' store credentials and options.

    Each variant still sets its own rerank flag per question; NEWSQA_READ=0 turns the span
    reader off here as it does in `qa ask` and the server.
    """
    return Answerer.open(index_dir, embedder, store_backend(settings), **answerer_options(settings))


def _collect_shard(
    index_dir: Path,
    questions: list[dict],
    off_topic: list[str],
    name: str | None,
    settings: Settings,
) -> dict:
    """Run in a worker process: load the index and models once, collect one shard."""
    import sys

    from index.embedder.runtime import configured_embedder

    def report(done: int, total: int) -> None:
        if done % 250 == 0 or done == total:
            print(f"{name}: {done}/{total} questions", file=sys.stderr, flush=True)

    answerer = _answerer(index_dir, configured_embedder(settings), settings)
    answerer.ask("warm up the reranker and the term statistics", k=1)
    return collect(answerer, questions, off_topic, progress=report if name else None)


def evaluate(
    data_dir: Path,
    index_dir: Path,
    limit: int | None = None,
    off_topic: Path | None = OFF_TOPIC,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    settings: Settings | None = None,
    articles: Collection[str] | None = None,
    split: str | None = None,
    articles_dir: Path | None = None,
) -> dict:
    """Build (or reuse) the index of the articles and score every variant on the questions.

    The articles are data_dir/articles unless `articles_dir` says otherwise (the news
    questions in eval/news are asked of seeds/); `split` keeps the questions, and off-topic
    questions, marked with that split.

    With workers > 1 the questions are dealt round-robin to that many processes (each with
    its own models); every worker still runs all variants side by side, question by question.
    """
    from index.build import build
    from index.embedder.runtime import configured_embedder

    settings = settings or Settings()
    embedder = configured_embedder(settings)
    articles_dir = articles_dir or Path(data_dir) / "articles"
    build(articles_dir, index_dir, embedder, backend=store_backend(settings))
    questions = load_questions(data_dir, limit, articles, split)
    extra = load_off_topic(off_topic, split) if off_topic else []
    if workers <= 1:
        answerer = _answerer(index_dir, embedder, settings)
        answerer.ask("warm up the reranker and the term statistics", k=1)
        variants = score(answerer, questions, extra, progress=progress)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # no model threads carried over a fork
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            jobs = [
                pool.submit(
                    _collect_shard,
                    index_dir,
                    questions[w::workers],
                    extra[w::workers],
                    f"worker {w + 1}" if progress else None,
                    settings,
                )
                for w in range(workers)
            ]
            parts = [job.result() for job in jobs]
        variants = summarize(merge(parts))
    return {"data": str(data_dir), "variants": variants}


def format_table(results: dict) -> str:
    """Render the results as a fixed-width table, then the abstention figures."""
    head = (
        f"{'variant':<16}{'n':>6}{'hit@1':>8}{'hit@5':>8}{'MRR':>8}{'highlight':>11}"
        f"{'EM':>8}{'F1':>8}{'p50 ms':>9}"
    )
    rows = [head, "-" * len(head)]
    for name, r in results["variants"].items():
        rows.append(
            f"{name:<16}{r['questions']:>6}{r['hit@1']:>8.3f}{r[f'hit@{TOP}']:>8.3f}"
            f"{r['mrr']:>8.3f}{r['highlight']:>11.3f}{r['exact_em']:>8.3f}{r['exact_f1']:>8.3f}"
            f"{r['p50_ms']:>9.1f}"
        )
    last = list(results["variants"])[-1] if results["variants"] else None
    if last:  # the full pipeline, by the kind of answer the question asks for
        rows += [
            "",
            f"by answer type ({last}):",
            f"{'type':<16}{'n':>6}{'hit@1':>8}{'EM':>8}{'F1':>8}",
        ]
        for kind, t in results["variants"][last]["by_type"].items():
            rows.append(
                f"{kind:<16}{t['questions']:>6}{t['hit@1']:>8.3f}"
                f"{t['exact_em']:>8.3f}{t['exact_f1']:>8.3f}"
            )
    notes = [
        f"abstention ({name}): threshold {a['threshold']}, precision {a['precision']:.3f}, "
        f"recall {a['recall']:.3f}, answerable answered {a['answered']:.3f}; "
        f"best threshold on this run {a['calibrated']}"
        for name, r in results["variants"].items()
        if (a := r.get("abstention")) and name in ("hybrid", "hybrid+rerank")
    ]
    notes += [
        f"relative dates resolved to the right day ({name}): {r['dates_resolved'][0]}"
        f" of {r['dates_resolved'][1]}"
        for name, r in results["variants"].items()
        if r.get("dates_resolved") and name == last
    ]
    notes += [
        line
        for name, r in results["variants"].items()
        if r.get("when") and name in ("hybrid", "hybrid+rerank")
        for line in format_cases(name, r["when"])
    ]
    return "\n".join(rows + ([""] if notes else []) + notes)
