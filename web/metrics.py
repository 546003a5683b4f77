"""Prometheus metrics: GET /metrics in the text format, one view over every gunicorn worker.

Requests, stage latencies, shed questions and queue waits are counted where they happen
(this module's hooks, the timed stages below, web/gate.py; questions the worker's main loop
refuses before Flask through `shed_early`). The index's generation and age and
the last rebuild's duration are read when /metrics is scraped. Under `qa serve` each worker
writes its counts to files in `Settings.metrics_dir` (PROMETHEUS_MULTIPROC_DIR, made by
`index.settings.worker_environment`) and a scrape of any worker sums them all
(prometheus_client's multiprocess mode); elsewhere the counts live in this process.
docs/operations.md ("Metrics") lists every metric.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily

from index.settings import METRICS_PREFIX
from index.store import generation_number

if TYPE_CHECKING:
    from qa.pipeline import Answerer
    from web.live_index import FixedIndex, LiveIndex
    from web.rebuilder import Rebuilder

disable_created_metrics()  # no *_created series: the same output with one worker or several

COUNTS = CollectorRegistry()  # what this process counted (one worker's share under gunicorn)
# Seconds: the fast stages take a millisecond, a question with both models about a second.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGES = ("search", "selection", "reranking", "extraction", "timing")  # then "decision"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route of a request no URL rule matched (404, 405)

HTTP_REQUESTS = Counter(
    "newsqa_http_requests",
    "HTTP requests answered, by URL rule, method and status",
    ["route", "method", "status"],
    registry=COUNTS,
)
HTTP_SECONDS = Histogram(
    "newsqa_http_request_seconds",
    "Seconds from the start of a request to its response, by URL rule",
    ["route"],
    buckets=BUCKETS,
    registry=COUNTS,
)
STAGE_SECONDS = Histogram(
    "newsqa_stage_seconds",
    "Seconds one pipeline stage took for one question (skipped stages are not observed)",
    ["stage"],
    buckets=BUCKETS,
    registry=COUNTS,
)
SHED = Counter(
    "newsqa_shed",
    "Questions refused with 503 overloaded (queue full, a standing line, or no turn in time)",
    registry=COUNTS,
)
SHED_EARLY = Counter(
    "newsqa_shed_early",
    "Of the shed questions, those the worker's main loop refused before a thread or Flask saw them",
    registry=COUNTS,
)
QUEUE_WAIT = Histogram(
    "newsqa_queue_wait_seconds",
    "Seconds an admitted question waited at the gate for its turn to be answered",
    buckets=BUCKETS,
    registry=COUNTS,
)


class TimedStage:
    """One stage of an answerer, each run observed in newsqa_stage_seconds{stage}.

    It hands the stage's result back untouched. A stage that returns its input as it is did
    nothing (reranking with --no-rerank, extraction with --no-read, timing without them) and
    is not observed: its histogram counts the questions it worked on.
    """

    def __init__(self, name: str, stage: Callable) -> None:
        self.name, self.inner = name, stage
        self._seconds = STAGE_SECONDS.labels(name)

    def __call__(self, c):  # noqa: ANN001, ANN204 - Candidates in, Candidates or Answer out
        started = time.perf_counter()
        out = self.inner(c)
        if out is not c:
            self._seconds.observe(time.perf_counter() - started)
        return out

    def __getattr__(self, name: str):  # noqa: ANN204 - the stage's own attributes
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


def time_stages(answerer: Answerer) -> None:
    """Time each stage of an answerer (once; one without stages, a fake, is left alone)."""
    stages = getattr(answerer, "stages", None)
    if stages is None or isinstance(getattr(answerer, "decision", None), TimedStage):
        return
    named = {id(getattr(answerer, name, None)): name for name in STAGES}
    answerer.stages = tuple(
        TimedStage(named.get(id(stage), type(stage).__name__.lower()), stage) for stage in stages
    )
    answerer.decision = TimedStage("decision", answerer.decision)


def built_at(meta: dict) -> float | None:
    """Return when a generation was built (its meta's "built", as /healthz shows it), in epoch
    seconds; None if it does not say."""
    try:
        return datetime.fromisoformat(str(meta["built"])).timestamp()
    except (KeyError, ValueError):
        return None


class ServingCollector:
    """What this worker serves and the last rebuild, read at scrape time (never loads a thing)."""

    def __init__(
        self,
        source: FixedIndex | LiveIndex,
        rebuilder: Rebuilder,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source, self.rebuilder, self.clock = source, rebuilder, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the generation, its age and the last build's seconds, each when known."""
        snap = self.source.loaded
        if snap is not None:
            number = generation_number(snap.index.generation)
            if number is not None:
                yield GaugeMetricFamily(
                    "newsqa_index_generation", "The number N of the gen-N served", value=number
                )
            built = built_at(snap.index.meta)
            if built is not None:
                yield GaugeMetricFamily(
                    "newsqa_index_age_seconds",
                    "Seconds since the generation served was built",
                    value=max(0.0, self.clock() - built),
                )
        report = self.rebuilder.status().get("report") or {}
        seconds = report.get("seconds") if isinstance(report, dict) else None
        if isinstance(seconds, int | float):
            yield GaugeMetricFamily(
                "newsqa_last_build_seconds",
                "Seconds the last finished POST /api/rebuild took (its report)",
                value=seconds,
            )


def _counts(directory: Path | None) -> CollectorRegistry:
    """Return the registry of the counts: every worker's files, or this process's own."""
    if directory is None or values.ValueClass is values.MutexValue:
        return COUNTS  # prometheus_client was imported without PROMETHEUS_MULTIPROC_DIR
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return registry


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _counted(response: Response) -> Response:
    """Count a response under its URL rule (never the raw path: the labels stay few)."""
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)
    return response


def shed_early(route: str, method: str, seconds: float) -> None:
    """Count a question refused before Flask (web/edge.py) as Flask would have counted it."""
    SHED.inc()
    SHED_EARLY.inc()
    HTTP_REQUESTS.labels(route, method, "503").inc()
    HTTP_SECONDS.labels(route).observe(seconds)


def install(
    app: Flask, source: FixedIndex | LiveIndex, rebuilder: Rebuilder, directory: Path | None
) -> None:
    """Count the app's requests, time its answerers' stages and serve GET /metrics.

    /metrics takes no turn at the question gate and loads nothing: it reads counters, files
    of a few KiB per worker and the status of the last rebuild.
    """
    app.before_request(_started)
    app.after_request(_counted)
    if hasattr(source, "prepare"):  # a LiveIndex: each generation's answerer before it serves
        source.prepare = time_stages
    if source.loaded is not None:  # a FixedIndex, or an index the app was handed
        time_stages(source.loaded.answerer)
    counts = _counts(directory)
    served = CollectorRegistry()
    served.register(ServingCollector(source, rebuilder))

    def scrape() -> Response:
        body = generate_latest(counts) + generate_latest(served)
        return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", scrape, methods=["GET"])


def process_ended(pid: int, directory: Path | None) -> None:
    """Forget a dead worker's live gauges (gunicorn's child_exit); its counts stay summed."""
    if directory is not None:
        multiprocess.mark_process_dead(pid, str(directory))


def server_ended(directory: Path | None) -> None:
    """Remove the temp folder `qa serve` made for the metrics (gunicorn's on_exit); a folder
    named by PROMETHEUS_MULTIPROC_DIR elsewhere is the operator's and stays."""
    if directory is None or not directory.name.startswith(METRICS_PREFIX):
        return
    if directory.parent.resolve() == Path(tempfile.gettempdir()).resolve():
        shutil.rmtree(directory, ignore_errors=True)
