"""Stage 5, timing: which value answers the question *when* it is asked, and every other one.

News facts change (a valuation, a chief executive, a death toll). The confident answers in
the cited windows of different articles are grouped by value (qa/text/values.py), each dated
by the earliest article that reports it. The exact answer is the newest value, or for "in
2019" the newest reported by the end of 2019 (later articles are read but do not decide).
Values from different outlets at the same moment are conflicts, shown side by side. Only
confident spans enter (the cross-encoder's logit and the reader's probability), so a
question with one answer in the corpus gets no timeline: `timeline` stays empty below two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from qa.candidates import Candidates
from qa.stages.extraction import Extraction, Found
from qa.text.kinds import answer_kind
from qa.text.values import Key, same_value, value_key

# A window's value enters the timeline only above both (calibrated on eval/timeline and the
# controls of eval/news: see docs/evaluation.md). The logit is the cross-encoder's own.
TIMELINE_LOGIT = 2.0
TIMELINE_PROBABILITY = 0.3
CONFLICT_HOURS = 20  # two outlets' values this close in time describe the same moment


@dataclass(frozen=True)
class Dated:
    """One confident value: the window that holds it, its words and its article's time."""

    window: int
    text: str
    key: Key
    published: datetime
    source: str  # the outlet (the link's host), else the author
    article: str


def _one_per_article(values: list[Dated]) -> list[Dated]:
    """Keep one value per article: the first it reports that no older article did, else its
    first ("named Priya Ramanathan, replacing Tobias Lindqvist": the news is the new name)."""
    kept: list[Dated] = []
    by_article: dict[str, list[Dated]] = {}
    for v in values:  # in window order: the surest first
        by_article.setdefault(v.article, []).append(v)
    for own in sorted(by_article.values(), key=lambda vs: vs[0].published):
        older = [v for v in kept if v.published < own[0].published]
        new = [v for v in own if not any(same_value(v.key, o.key) for o in older)]
        kept.append((new or own)[0])
    return kept


@dataclass(frozen=True)
class Entry:
    """One distinct value in the timeline, dated by the earliest article that reports it."""

    text: str
    published: datetime
    window: int  # where the earliest report is: an index into the windows (and citations)
    conflict: bool


def _source(window) -> str:  # noqa: ANN001 - a Snippet
    article = window.passage.article
    return urlsplit(article.url).hostname or article.author or article.id


def _group(values: list[Dated]) -> list[list[Dated]]:
    """Group values that mean the same (by key), keeping each group's reports oldest first."""
    groups: list[list[Dated]] = []
    for v in sorted(values, key=lambda v: (v.published, v.window)):
        home = next((g for g in groups if same_value(g[0].key, v.key)), None)
        if home is None:
            groups.append([v])
        else:
            home.append(v)
    return groups


def _conflicts(groups: list[list[Dated]]) -> set[int]:
    """Return the groups whose value another outlet contradicts at the same moment."""
    out: set[int] = set()
    for i, a in enumerate(groups):
        for j, b in enumerate(groups[:i]):
            if any(
                x.source != y.source
                and abs((x.published - y.published).total_seconds()) < CONFLICT_HOURS * 3600
                for x in a
                for y in b
            ):
                out |= {i, j}
    return out


class Timing:
    """Read the other confident windows, date their values, answer as of the asked time."""

    def __init__(self, extraction: Extraction) -> None:
        self.extraction = extraction  # the same span reader, read the same way

    def __call__(self, c: Candidates) -> Candidates:
        """Fill in `timeline`; move the window of the value the question asks for first."""
        if not c.found or not c.reranked:
            return c
        c = self._read_confident(c)
        groups = _group(self._values(c))
        if len(groups) < 2:
            return c
        chosen = self._choose(c, groups)
        if chosen is not None and chosen != 0:
            c = _first(c, chosen)
            groups = _group(self._values(c))
        conflicts = _conflicts(groups)
        entries = [
            Entry(g[0].text, g[0].published, g[0].window, i in conflicts)
            for i, g in enumerate(groups)
        ]
        return replace(c, timeline=tuple(sorted(entries, key=lambda e: e.published, reverse=True)))

    def _read_confident(self, c: Candidates) -> Candidates:
        """Read the cited windows the reader has not read yet whose logit is confident."""
        k = min(c.request.k, len(c.windows))
        found = list(c.found) + [None] * (k - len(c.found))
        todo = [i for i in range(len(c.found), k) if c.logits[i] >= TIMELINE_LOGIT]
        if todo:
            for i, f in zip(
                todo, self.extraction.read_windows(c, [c.windows[i] for i in todo]), strict=True
            ):
                found[i] = f
        return replace(c, found=tuple(found))

    @staticmethod
    def _values(c: Candidates) -> list[Dated]:
        """Return the confident, dated values of the cited windows (of the kind asked for)."""
        typed = answer_kind(c.request.question) is not None  # "how many": a count, not "Several"
        out = []
        for i, f in enumerate(c.found[: c.request.k]):
            w = c.windows[i]
            if f is None or f.probability < TIMELINE_PROBABILITY or (typed and not f.typed):
                continue
            if c.logits[i] < TIMELINE_LOGIT or w.passage.article.date is None:
                continue
            text = f.words(w)
            if (key := value_key(text)) is not None:
                article = w.passage.article
                out.append(Dated(i, text, key, article.date, _source(w), article.id))
        return _one_per_article(out)

    @staticmethod
    def _choose(c: Candidates, groups: list[list[Dated]]) -> int | None:
        """Return the window of the value the question asks for (None: keep the first)."""
        period = c.period
        if period is not None and not period.relative:  # "in 2019": as it stood by then
            reports = [v for g in groups for v in g if v.published.date() <= period.end]
        elif period is not None:  # "this week": a value reported in it, if there is one
            reports = [v for g in groups for v in g if period.holds(v.published.date())]
        else:  # no time named: the newest value
            reports = [v for g in groups for v in g]
        if not reports:
            return None
        newest = max(v.published for v in reports)
        latest = [v for v in reports if v.published == newest]
        if any(v.window == 0 for v in latest):
            return 0  # a tie with the first window keeps it
        return min(v.window for v in latest)


def _first(c: Candidates, i: int) -> Candidates:
    """Move window i (with its logit and its span) to the front."""
    order = [i, *(j for j in range(len(c.windows)) if j != i)]
    found: list[Found | None] = list(c.found) + [None] * (len(c.windows) - len(c.found))
    return replace(
        c,
        windows=tuple(c.windows[j] for j in order),
        logits=tuple(c.logits[j] for j in order),
        found=tuple(found[j] for j in order)[: len(c.found)],
    )
