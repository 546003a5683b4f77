"""Turn SQuAD v1.1 articles (train or dev) into (question, paragraph, answer) examples.

The span reader (qa/span_reader.py) is trained on squad-train by train/reader.py and measured
on all of squad-dev. VALIDATION_ARTICLES are the four dev articles that runs 1-3 held out
(they trained on the rest of dev); `qa eval --validation` still reports on them, for
continuity. Scores: qa/evaluation/metrics.py, the one SQuAD EM/F1.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SQUAD_DEV = Path(__file__).resolve().parents[3] / "shared" / "eval" / "squad-dev"
SPLIT_SEED = 13
VALIDATION_SHARE = 0.2
# = split_articles(question counts of squad-dev, SPLIT_SEED, VALIDATION_SHARE); frozen here so
# that it can be imported without the data, and checked against the data by a test.
VALIDATION_ARTICLES: tuple[str, ...] = (
    "JacksonvilleFlorida.txt",
    "NewcastleuponTyne.txt",
    "Pharmacy.txt",
    "SuperBowl50.txt",
)


@dataclass(frozen=True)
class Example:
    """One question with its gold paragraph and the located answer (character offsets)."""

    id: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_start: int
    answer_text: str
    article: str


def read_paragraphs(path: Path) -> list[str]:
    """Return the text of each <p> element of an article file, in order."""
    from bs4 import BeautifulSoup

    text = path.read_text(encoding="utf-8")
    _header, _, body = text.partition("\n\n")  # the JSON header ends at the first blank line
    return [p.get_text() for p in BeautifulSoup(body, "html.parser").find_all("p")]


def locate_answer(paragraph: str, answers: Sequence[str]) -> tuple[int, str] | None:
    """Return (start, text) of the first occurrence of the first answer found, else None."""
    for answer in answers:
        # SQuAD has no offsets in our copy: the first occurrence is right for most answers.
        start = paragraph.find(answer) if answer.strip() else -1
        if start >= 0:
            return start, answer
    return None


def load_examples(folder: Path = SQUAD_DEV) -> tuple[list[Example], list[dict]]:
    """Return (examples whose answer was located, question records whose answer was not)."""
    paragraphs: dict[str, list[str]] = {}
    examples: list[Example] = []
    dropped: list[dict] = []
    with open(folder / "questions.jsonl", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            article = record["article"]
            if article not in paragraphs:
                paragraphs[article] = read_paragraphs(folder / "articles" / article)
            article_paragraphs = paragraphs[article]
            index = record["paragraph"]
            found = None
            if 0 <= index < len(article_paragraphs):
                found = locate_answer(article_paragraphs[index], record["answers"])
            if found is None:
                dropped.append(record)
                continue
            examples.append(
                Example(
                    id=record["id"],
                    question=record["question"],
                    context=article_paragraphs[index],
                    answers=tuple(record["answers"]),
                    answer_start=found[0],
                    answer_text=found[1],
                    article=article,
                )
            )
    return examples, dropped


def question_counts(examples: Iterable[Example]) -> Counter[str]:
    """Return how many examples each article has."""
    return Counter(example.article for example in examples)


def split_articles(
    counts: Mapping[str, int], seed: int = SPLIT_SEED, share: float = VALIDATION_SHARE
) -> tuple[str, ...]:
    """Pick validation articles by a seeded shuffle until they hold >= share of the questions."""
    names = sorted(counts)
    random.Random(seed).shuffle(names)
    total = sum(counts.values())
    chosen: list[str] = []
    held = 0
    for name in names:
        if held >= share * total:
            break
        chosen.append(name)
        held += counts[name]
    return tuple(sorted(chosen))


def split_examples(
    examples: Sequence[Example], validation: Sequence[str] = VALIDATION_ARTICLES
) -> tuple[list[Example], list[Example]]:
    """Return (training, validation) examples, split by article."""
    held = set(validation)
    train = [e for e in examples if e.article not in held]
    return train, [e for e in examples if e.article in held]
