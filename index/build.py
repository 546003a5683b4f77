"""Build or update the index from a seeds folder: diff by content hash, embed what changed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.articles import MAX_FILE_BYTES, Article, ArticleError, content_hash
from index.chunking import Chunk, chunk_text
from index.embedding import Embedder
from index.errors import BuildLocked, IndexFormatError, IndexNotFound, SeedsError
from index.parser_process import PARSE_SECONDS, ParserProcess
from index.seeds import Skipped, article_id, read_seed, scan_seeds
from index.store import Index, load_index, remove_stale, save_index, store_kind

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
    """List the article files under seeds_dir (see index.seeds.scan_seeds), sorted."""
    return list(scan_seeds(seeds_dir).files)


def _unique(aid: str, taken: set[str]) -> str:
    """Return aid, or aid~2, aid~3... if another file has it (a.txt and a.html, a safe id)."""
    name, n = aid, 1
    while name in taken:
        n += 1
        name = f"{aid}~{n}"
    return name


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


def build_lock(index_dir: Path) -> BuildLock:
    """Return the index's build lock, to hold with `with` (raises BuildLocked when taken)."""
    return BuildLock(index_dir)


def _previous(index_dir: Path, model: str, full: bool, notes: list[str]) -> Index | None:
    if full:
        return None
    try:
        return load_index(index_dir, model)
    except IndexNotFound:
        return None
    except IndexFormatError as err:
        notes.append(f"previous index not reusable, rebuilding in full: {err}")
        return None


def build(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: Progress | None = None,
    parse_seconds: float = PARSE_SECONDS,
    locked: bool = False,
) -> BuildReport:
    """Bring the index at index_dir up to date with seeds_dir; return what was done.

    Each new or changed file is parsed in a child process with parse_seconds to finish.
    `locked` says the caller holds build_lock(index_dir) already (POST /api/rebuild takes it
    before it answers, so that of two requests at once exactly one is accepted).
    """
    started = time.perf_counter()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    scan = scan_seeds(seeds_dir)
    store_kind()  # a bad NEWSQA_STORE fails here, not after the embedding
    lock = nullcontext() if locked else build_lock(index_dir)
    with lock, ParserProcess(parse_seconds) as parser:
        remove_stale(index_dir)  # litter of a build that was killed: we hold the lock now
        notes: list[str] = []
        prev = _previous(index_dir, embedder.name, full, notes)
        prev_articles = prev.articles if prev else {}
        prev_by_hash = {a.content_hash: a for a in prev_articles.values()}
        prev_rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(prev.chunks if prev else ()):
            prev_rows.setdefault(chunk.article_id, []).append(row)

        skipped: list[Skipped] = list(scan.skipped)
        kept: list[tuple[Article, list[Chunk] | None]] = []  # None: chunks still to embed
        seen: dict[str, str] = {}
        ids: set[str] = set()
        added, updated, unchanged = [], [], []
        for path in scan.files:
            try:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:  # don't even read it: no article is that large
                    skipped.append(Skipped(str(path), f"file is too large ({size:,} bytes)"))
                    continue
                raw = read_seed(path)
            except OSError as err:
                skipped.append(Skipped(str(path), f"cannot read: {err.strerror}"))
                continue
            digest = content_hash(raw)
            if digest in seen:
                skipped.append(Skipped(str(path), f"duplicate of {seen[digest]}"))
                continue
            aid = _unique(article_id(seeds_dir, path), ids)
            old = prev_by_hash.get(digest)
            if old is not None:  # same bytes as before: reuse its parse and its vectors
                article = replace(old, id=aid, path=str(path))
                chunks = [
                    replace(prev.chunks[r], id=f"{aid}#{n}", article_id=aid)
                    for n, r in enumerate(prev_rows.get(old.id, []))
                ]
                kept.append((article, chunks))
            else:
                try:
                    article = parser.parse(raw, str(path), aid)
                except ArticleError as err:
                    skipped.append(Skipped(str(path), err.reason))
                    continue
                kept.append((article, None))
            seen[digest] = str(path)
            ids.add(aid)
            if aid not in prev_articles:
                added.append(aid)
            elif prev_articles[aid].content_hash != digest:
                updated.append(aid)
            else:
                unchanged.append(aid)
        removed = sorted(set(prev_articles) - {a.id for a, _ in kept})

        report = BuildReport(
            added=tuple(added),
            updated=tuple(updated),
            removed=tuple(removed),
            unchanged=tuple(unchanged),
            skipped=tuple(skipped),
            notes=tuple(notes),
        )
        if not kept:
            raise SeedsError(
                f"no readable article in {seeds_dir} ({len(skipped)} skipped); index left as it was"
            )
        if prev is not None and prev.lexical is None:
            notes.append("previous generation has no BM25 index: publishing one (no re-embedding)")
            report = replace(report, notes=tuple(notes))
        elif prev is not None and prev.meta.get("store", "faiss") != store_kind():
            notes.append(f"moving the vectors to the {store_kind()} store (no re-embedding)")
            report = replace(report, notes=tuple(notes))
        elif prev is not None and not (added or updated or removed):
            return replace(
                report,
                articles=len(prev.articles),
                chunks=len(prev.chunks),
                seconds=time.perf_counter() - started,
            )

        old_vectors = prev.chunk_vectors() if prev else None
        to_embed: list[Chunk] = []
        parts: list[tuple[list[Chunk], np.ndarray | None]] = []
        for article, chunks in kept:
            if chunks is None:
                fresh = chunk_text(article.id, article.text)
                to_embed.extend(fresh)
                parts.append((fresh, None))
            else:
                rows = prev_rows.get(prev_by_hash[article.content_hash].id, [])
                parts.append((chunks, old_vectors[rows] if rows else None))
        new_vectors = _embed([c.text for c in to_embed], embedder, progress)
        chunks_out: list[Chunk] = []
        blocks: list[np.ndarray] = []
        cursor = 0
        for chunks, vecs in parts:
            chunks_out.extend(chunks)
            if vecs is None:
                vecs = new_vectors[cursor : cursor + len(chunks)]
                cursor += len(chunks)
            blocks.append(vecs.reshape(len(chunks), embedder.dim))
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
        articles_out = [a for a, _ in kept]
        generation = save_index(index_dir, articles_out, chunks_out, vectors, embedder.name)
        return replace(
            report,
            articles=len(articles_out),
            chunks=len(chunks_out),
            embedded=len(to_embed),
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
