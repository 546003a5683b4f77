"""Build or update the index from a seeds folder: diff by content hash, embed what changed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.articles import Article, ArticleError, content_hash
from index.chunking import INDEXED_TEXT, Chunk, chunk_text
from index.embedder.runtime import Embedder
from index.errors import BuildLocked, IndexFormatError, IndexNotFound, SeedsError
from index.sources.parser_process import PARSE_SECONDS, ParserProcess
from index.sources.seeds import SeedScan, Skipped, read_seeds, scan_seeds
from index.sources.syndication import merge_copies
from index.store import (
    FORMAT_VERSION,
    Index,
    load_index,
    load_legacy,
    remove_stale,
    save_index,
)
from index.stores.base import StoreBackend
from index.stores.faiss_store import FaissBackend

LOCK = "lock"
EMBED_SLICE = 256  # texts per encode call: large enough to batch well, small for progress
Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed)


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI summary, the --json report and the API."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    articles: int = 0
    chunks: int = 0
    embedded: int = 0
    generation: str | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Return whether this build published a new generation."""
        return bool(self.added or self.updated or self.removed) or self.generation is not None

    def summary(self) -> str:
        """Return the one line `qa index` (and each --watch rebuild) prints."""
        return (
            f"{self.articles} articles, {self.chunks} chunks in {self.seconds:.1f}s: "
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
            f"{self.embedded} chunks embedded"
            + (f"; published {self.generation}" if self.generation else "; index unchanged")
        )

    def to_json(self) -> dict:
        """Return the report as plain JSON types."""
        return {
            "added": list(self.added),
            "updated": list(self.updated),
            "removed": list(self.removed),
            "unchanged": len(self.unchanged),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "articles": self.articles,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "generation": self.generation,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def seed_files(seeds_dir: Path) -> list[Path]:
    """List the article files under seeds_dir (see index.sources.seeds.scan_seeds), sorted."""
    return list(scan_seeds(seeds_dir).files)


def pid_alive(pid: int) -> bool:
    """Return whether a process with this pid exists (a lock or status holder)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BuildLock:
    """The index's build lock: a file holding the builder's pid; a dead builder's is taken over.

    Enter it with `with`, or acquire() in one thread and release() in another (a rebuild over
    HTTP takes it in the request, before answering 202, and its thread gives it back).
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / LOCK

    def acquire(self) -> None:
        """Take the lock now; raise BuildLocked if a living process holds it."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        # The lock appears with the pid already in it (a hard link of a written file): created
        # empty and written after, a second taker could read "" there and call it stale.
        mine = self.index_dir / f".{LOCK}.{os.getpid()}.{threading.get_ident()}.tmp"
        mine.write_text(f"{os.getpid()}\n")
        try:
            for _ in range(2):
                try:
                    os.link(mine, self.path)
                    return
                except FileExistsError:
                    try:
                        pid = int(self.path.read_text().strip() or 0)
                    except (OSError, ValueError):
                        pid = 0
                    if pid and pid_alive(pid):
                        raise BuildLocked(f"another build (pid {pid}) holds {self.path}") from None
                    self.path.unlink(missing_ok=True)  # stale: its owner is gone
            raise BuildLocked(f"cannot take {self.path}")
        finally:
            mine.unlink(missing_ok=True)

    def release(self) -> None:
        """Give the lock back."""
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _previous(
    index_dir: Path, model: str, full: bool, backend: StoreBackend, notes: list[str]
) -> Index | None:
    """Return the generation whose vectors this build may reuse, if any (notes say why not)."""
    if full:
        return None
    legacy = False
    try:
        prev = load_index(index_dir, model, backend)
    except IndexNotFound:
        return None
    except IndexFormatError as err:
        try:
            prev, legacy = load_legacy(index_dir, model), True
        except IndexFormatError:
            prev = None
        if prev is None:
            notes.append(f"previous index not reusable, rebuilding in full: {err}")
            return None
    if prev.meta.get("text") != INDEXED_TEXT:  # vectors of other text: they would not match
        notes.append("previous index embedded other text than its chunks: re-embedding them all")
        return None
    if legacy:
        notes.append("previous index is format 2: its vectors are reused, nothing re-embedded")
    return prev


@dataclass(frozen=True)
class Plan:
    """What a build will do: each article kept, with its chunks when they can be reused."""

    kept: tuple[tuple[Article, tuple[Chunk, ...] | None], ...]  # None: chunk and embed it
    reused_rows: dict[str, np.ndarray]  # article id -> its rows in the previous generation
    report: BuildReport


def _reuse(
    article: Article, prev: Index | None, by_hash: dict[str, Article]
) -> tuple[tuple[Chunk, ...] | None, np.ndarray | None]:
    """Return the chunks and rows of the previous generation that still fit this article."""
    old = by_hash.get(article.content_hash)
    if prev is None or old is None or old.text != article.text:
        return None, None
    rows = prev.rows_by_article.get(old.id, np.zeros(0, dtype=np.int64))
    chunks = tuple(
        replace(prev.chunks[r], id=f"{article.id}#{n}", article_id=article.id)
        for n, r in enumerate(rows)
    )
    return chunks, rows


def _changed(article: Article, old: Article) -> bool:
    """Return whether an article differs from its previous version (text or its copies)."""
    return (
        old.content_hash != article.content_hash
        or old.also_published_at != article.also_published_at
    )


def plan(
    seeds_dir: Path, scan: SeedScan, prev: Index | None, parser: ParserProcess, notes: list[str]
) -> Plan:
    """Compare the seed files with the previous generation by content hash.

    A one-article file with the same bytes as before is not read again. Other new or changed
    files are read by `parser` (a child process with a time budget); each article read
    keeps its previous vectors when its own hash is unchanged, so a feed that gains items
    embeds only those. Syndicated copies are then merged (index.sources.syndication).
    """
    prev_articles = prev.articles if prev else {}
    found, skipped = _read(seeds_dir, scan, prev_articles, parser)
    kept_articles, copies = merge_copies(found)
    by_hash = {a.content_hash: a for a in prev_articles.values()}
    kept: list[tuple[Article, tuple[Chunk, ...] | None]] = []
    reused: dict[str, np.ndarray] = {}
    for article in kept_articles:
        chunks, rows = _reuse(article, prev, by_hash)
        kept.append((article, chunks))
        if rows is not None:
            reused[article.id] = rows
    report = _classify([a for a, _ in kept], prev_articles)
    report = replace(report, skipped=(*skipped, *copies), notes=tuple(notes))
    return Plan(tuple(kept), reused, report)


def _read(
    seeds_dir: Path, scan: SeedScan, prev_articles: Mapping[str, Article], parser: ParserProcess
) -> tuple[list[Article], list[Skipped]]:
    """Return the articles of the seed files (reusing unchanged one-article files) and skips."""
    by_file: dict[str, list[Article]] = {}
    for old in prev_articles.values():
        by_file.setdefault(old.source_hash or old.content_hash, []).append(old)
    skipped: list[Skipped] = list(scan.skipped)
    found: list[Article] = []
    seen: dict[str, str] = {}
    for seed in read_seeds(seeds_dir, scan):
        if seed.raw is None:
            skipped.append(Skipped(str(seed.path), seed.reason))
            continue
        digest = content_hash(seed.raw)
        if digest in seen:
            skipped.append(Skipped(str(seed.path), f"duplicate of {seen[digest]}"))
            continue
        olds = by_file.get(digest, [])
        if len(olds) == 1 and not olds[0].item:  # same bytes as before: reuse its parse
            found.append(replace(olds[0], id=seed.id, path=str(seed.path), also_published_at=()))
        else:  # a feed or export is read again (milliseconds): its items may be copies
            try:
                reading = parser.read(seed.raw, str(seed.path), seed.id)
            except ArticleError as err:
                skipped.append(Skipped(str(seed.path), err.reason))
                continue
            found.extend(reading.articles)
            skipped.extend(reading.skipped)
        seen[digest] = str(seed.path)
    return found, skipped


def _classify(kept: Sequence[Article], prev_articles: Mapping[str, Article]) -> BuildReport:
    """Return the report's lists: which articles are added, updated, unchanged, removed."""
    status: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for article in kept:
        old = prev_articles.get(article.id)
        if old is None:
            status["added"].append(article.id)
        elif _changed(article, old):
            status["updated"].append(article.id)
        else:
            status["unchanged"].append(article.id)
    return BuildReport(
        added=tuple(status["added"]),
        updated=tuple(status["updated"]),
        removed=tuple(sorted(set(prev_articles) - {a.id for a in kept})),
        unchanged=tuple(status["unchanged"]),
    )


def assemble(
    plan: Plan, prev: Index | None, embedder: Embedder, progress: Progress | None
) -> tuple[list[Chunk], np.ndarray, int]:
    """Chunk and embed the new articles, reuse the old vectors; return chunks, vectors, embedded."""
    old_vectors = prev.store.vectors() if prev and plan.reused_rows else None
    fresh = {a.id: chunk_text(a.id, a.text) for a, chunks in plan.kept if chunks is None}
    to_embed = [c for chunks in fresh.values() for c in chunks]
    new_vectors = _embed([c.text for c in to_embed], embedder, progress)
    chunks_out: list[Chunk] = []
    blocks: list[np.ndarray] = []
    cursor = 0
    for article, chunks in plan.kept:
        if chunks is None:
            chunks = fresh[article.id]
            vecs = new_vectors[cursor : cursor + len(chunks)]
            cursor += len(chunks)
        else:
            vecs = old_vectors[plan.reused_rows[article.id]]
        chunks_out.extend(chunks)
        blocks.append(vecs.reshape(len(chunks), embedder.dim))
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
    return chunks_out, vectors, len(to_embed)


def _why_rewrite(prev: Index, backend: StoreBackend) -> str | None:
    """Return why an unchanged article set still needs a new generation (None: it doesn't)."""
    if prev.meta.get("store") != backend.kind:
        return f"moving the vectors to the {backend.kind} store (no re-embedding)"
    if getattr(backend, "publishes_replicas", False) and "replica" not in prev.meta:
        return "publishing the rows stateless replicas read into Milvus (no re-embedding)"
    if prev.meta.get("format") != FORMAT_VERSION:
        return f"writing format {FORMAT_VERSION} (no re-embedding)"
    return None


def build(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: Progress | None = None,
    backend: StoreBackend | None = None,
    parse_seconds: float = PARSE_SECONDS,
    locked: bool = False,
) -> BuildReport:
    """Bring the index at index_dir up to date with seeds_dir; return what was done.

    Each new or changed file is parsed in a child process with parse_seconds to finish.
    `locked` says the caller holds BuildLock(index_dir) already (POST /api/rebuild takes it
    before it answers, so that of two requests at once exactly one is accepted).
    """
    started = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    backend = backend or FaissBackend()
    scan = scan_seeds(seeds_dir)
    lock = nullcontext() if locked else BuildLock(index_dir)
    with lock, ParserProcess(parse_seconds) as parser:
        remove_stale(index_dir)  # litter of a build that was killed: we hold the lock now
        notes: list[str] = []
        prev = _previous(index_dir, embedder.name, full, backend, notes)
        work = plan(seeds_dir, scan, prev, parser, notes)
        report = work.report
        if not work.kept:
            raise SeedsError(
                f"no readable article in {seeds_dir} ({len(report.skipped)} skipped); "
                "index left as it was"
            )
        if prev is not None and not (report.added or report.updated or report.removed):
            why = _why_rewrite(prev, backend)
            if why is None:
                return replace(
                    report,
                    articles=len(prev.articles),
                    chunks=len(prev.chunks),
                    seconds=time.perf_counter() - started,
                )
            report = replace(report, notes=(*report.notes, why))
        chunks, vectors, embedded = assemble(work, prev, embedder, progress)
        articles = [a for a, _ in work.kept]
        generation = save_index(index_dir, articles, chunks, vectors, embedder.name, backend)
        return replace(
            report,
            articles=len(articles),
            chunks=len(chunks),
            embedded=embedded,
            generation=generation,
            seconds=time.perf_counter() - started,
        )


def _embed(texts: list[str], embedder: Embedder, progress: Progress | None) -> np.ndarray:
    """Embed texts in slices so a long build can report progress between them."""
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for i in range(0, len(texts), EMBED_SLICE):
        out[i : i + EMBED_SLICE] = embedder.encode(texts[i : i + EMBED_SLICE])
        if progress:
            progress(min(i + EMBED_SLICE, len(texts)), len(texts))
    return out
