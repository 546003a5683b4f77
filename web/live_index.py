"""The index a server answers from: loaded once, swapped for a newer generation between requests."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embedder.runtime import Embedder
from index.errors import IndexError_, IndexNotFound, StoreUnavailable
from index.store import FolderGenerations, Generations, Index
from index.stores.base import StoreBackend
from qa.pipeline import Answerer

log = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """No index is loaded yet (not built, or unreadable); the HTTP edge answers 503."""


@dataclass(frozen=True)
class Snapshot:
    """One loaded generation and its answerer; a request keeps its snapshot until it ends."""

    answerer: Answerer
    index: Index
    newest_first: Sequence[str] = field(repr=False)  # article ids, newest first

    @classmethod
    def of(cls, answerer: Answerer) -> Snapshot:
        """Describe an answerer's index (its order of articles was fixed by the build)."""
        return cls(answerer, answerer.index, answerer.index.corpus.newest_first())

    def chunk_count(self, article_id: str) -> int:
        """Return how many chunks an article has (0: none, or no such article)."""
        rows = self.index.corpus.rows_of(article_id)
        return 0 if rows is None else len(rows)


class SerialEmbedder:
    """Let one thread at a time encode: a rebuild thread and requests share one model.

    The fast tokenizer inside sentence-transformers is not safe to call from two threads at
    once ("Already borrowed"), and two concurrent encodes on 2 cores are no faster anyway.
    """

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts while holding the model."""
        with self._lock:
            return self.inner.encode(texts)


class FixedIndex:
    """Serve one answerer forever (tests pass a fake or a prebuilt answerer)."""

    def __init__(self, answerer: Answerer, model: str | None = None) -> None:
        self._snapshot = Snapshot.of(answerer)
        self.model = model or answerer.index.meta.get("model", "")
        self.index_dir = Path(answerer.index.path)

    def snapshot(self) -> Snapshot:
        """Return the one snapshot."""
        return self._snapshot

    @property
    def loaded(self) -> Snapshot:
        """Return the one snapshot (as LiveIndex.loaded: what serves now)."""
        return self._snapshot

    def refresh(self) -> None:
        """Do nothing: a fixed index never changes."""

    def warm(self) -> None:
        """Do nothing: the answerer is loaded already."""

    @property
    def embedder(self) -> Embedder:
        """Return the answerer's embedder."""
        return self._snapshot.answerer.embedder


class LiveIndex:
    """Own the index folder and the model; follow `current` to the newest generation.

    A stateless replica passes `generations` (index/stores/milvus/replica.py): it follows the
    record in Milvus instead of a folder's `current`, and loads everything from Milvus.

    The model is loaded once (on first need) and reused by every generation. A request takes a
    snapshot and answers from it to the end, so a swap never changes a request half way. The
    `current` pointer is read at most once per `interval` seconds; the load happens in the one
    request thread that noticed, while the others keep answering from the old snapshot.
    """

    def __init__(
        self,
        index_dir: Path,
        embedder_factory: Callable[[], Embedder],
        *,
        model: str,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        options: Mapping[str, object] | None = None,
        backend: StoreBackend | None = None,
        generations: Generations | None = None,
        free: Callable[[], int] | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.free = free  # threads a model run may take now (web/cores.py), for preloaded models
        self.generations = generations or FolderGenerations(self.index_dir, backend)
        self.options = dict(options or {})  # keyword arguments for each Answerer (e.g. rerank)
        self.model = model
        self.interval = interval
        self._factory = embedder_factory
        self._embedder: SerialEmbedder | None = None
        self._clock = clock
        self._lock = threading.Lock()  # one loader at a time
        self._model_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self._failed: str | None = None  # a generation that would not load; not retried
        # Milvus was unreachable at the last load: retried at the next look, and said as such.
        self._store_error: StoreUnavailable | None = None
        self._error = f"no index at {self.index_dir} (build one with: qa index)"
        # Told of each generation once it serves; each must return at once (web/saved.py).
        self.listeners: list[Callable[[Answerer], None]] = []
        # Given each generation's answerer before it serves (web/metrics.py times its stages).
        self.prepare: Callable[[Answerer], None] = lambda answerer: None

    @property
    def embedder(self) -> SerialEmbedder:
        """Return the model, loading it on first use (once per process)."""
        with self._model_lock:
            if self._embedder is None:
                self._embedder = SerialEmbedder(self._factory())
            return self._embedder

    def snapshot(self) -> Snapshot:
        """Return the newest loaded generation; raise IndexUnavailable if there is none."""
        snap = self._snapshot
        if snap is None or self._clock() - self._checked >= self.interval:
            # Without a snapshot a request must wait for the load; with one it need not.
            if self._lock.acquire(blocking=snap is None):
                try:
                    if snap is None or self._clock() - self._checked >= self.interval:
                        self._check()
                finally:
                    self._lock.release()
            snap = self._snapshot
        if snap is None:
            if self._store_error is not None:
                raise self._store_error  # the edge answers 503 store_unavailable
            raise IndexUnavailable(self._error)
        return snap

    @property
    def loaded(self) -> Snapshot | None:
        """Return the generation serving now, without looking for a newer one (None: none yet)."""
        return self._snapshot

    def adopt(self, index: Index) -> None:
        """Serve an index the caller already loaded (it must live in index_dir)."""
        with self._lock:
            answerer = self._answerer(index)
            self.prepare(answerer)
            self._snapshot = Snapshot.of(answerer)
            self._checked = self._clock()

    def preload(self) -> None:
        """Load the models now, before gunicorn forks its workers, so they share one copy.

        Nothing writes to a model's weights, so after the fork their pages stay shared (copy
        on write) and a second worker adds almost nothing. Only with one model thread per
        worker: ONNX Runtime then starts no thread pool, and no thread is lost in the fork.
        With `free` a question answered alone takes more threads than one: a session of more
        threads is opened in the worker on first use (ElasticSession).
        """
        from qa.errors import ModelMissing

        if self.options.get("threads") != 1:
            return
        import bm25s  # noqa: F401 - what loading a generation imports (scipy with it): shared
        import faiss  # noqa: F401

        self.embedder.encode(["warm up"])
        threads, options = 1, self.options
        try:
            if options.get("rerank", True) and "reranker" not in options:
                from qa.cross_encoder import CrossEncoder

                options["reranker"] = CrossEncoder(options.get("reranker_dir"), threads, self.free)
            if options.get("read", True) and "span_reader" not in options:
                from qa.span_reader import SpanReader

                options["span_reader"] = SpanReader(options.get("reader_dir"), threads, self.free)
        except ModelMissing as err:  # the stage says so on first use, as without a preload
            log.warning("not preloading a model: %s", err)

    def warm(self) -> None:
        """Load the index and the model now if an index exists (a worker calls this at start)."""
        try:
            self.snapshot()
        except IndexUnavailable:
            log.warning("%s; answering 503 until it exists", self._error)

    def refresh(self) -> None:
        """Check `current` now (after a rebuild in this process), waiting for the load."""
        with self._lock:
            self._check()

    def _answerer(self, index: Index) -> Answerer:
        """Make the answerer for a generation, reusing the models of the one it replaces."""
        options = dict(self.options)
        previous = self._snapshot.answerer if self._snapshot else None
        if previous is not None and options.get("rerank", True):
            options.setdefault("reranker", previous.reranker)  # loaded once, never again
        if previous is not None and options.get("read", True):
            options.setdefault("span_reader", previous.extraction.reader)
        return Answerer(index, self.embedder, **options)

    def _check(self) -> None:
        self._checked = self._clock()
        try:
            name = self.generations.current()
        except StoreUnavailable as err:  # a replica's Milvus is down: say so, look again later
            self._store_error = err
            log.warning("cannot read the live generation: %s", err)
            return
        self._store_error = None
        loaded = self._snapshot.index.generation if self._snapshot else None
        if name is None or name in (loaded, self._failed):
            return
        try:
            index = self.generations.load()
            answerer = self._answerer(index)
            answerer.ask("warm up", k=1)  # pay lazy setup (term statistics) before serving
        except IndexNotFound as err:  # `current` vanished between the two reads
            self._error = str(err)
            return
        except StoreUnavailable as err:  # not the generation's fault: try again next time
            self._store_error = err
            log.warning("cannot load index generation %s yet: %s", name, err)
            return
        except IndexError_ as err:
            self._failed, self._error = name, str(err)
            log.error("cannot load index generation %s: %s", name, err)
            return
        self.prepare(answerer)  # after the warm-up question: it is not counted
        self._snapshot, self._failed, self._store_error = Snapshot.of(answerer), None, None
        for listener in self.listeners:
            listener(answerer)
        log.info("serving index generation %s (%s chunks)", index.generation, len(index.corpus))
