"""One index generation on disk: save, load, format check, atomic publish via `current`."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from index.articles import Article
from index.chunking import INDEXED_TEXT, Chunk
from index.corpus import CORPUS_DIR, Corpus, DiskCorpus, write_corpus
from index.corpus_views import ArticleView, ChunkView, RowsView
from index.errors import IndexFormatError, IndexNotFound
from index.stores import backend_for
from index.stores.base import StoreBackend, VectorStore
from index.stores.bm25 import LEXICAL_DIR, Lexical
from index.stores.faiss_store import FaissBackend

# 2: every generation has BM25 and records its store (format 1 allowed neither to be missing).
# 3: articles and chunks in mapped columns (corpus/), vectors in vectors.npy (+ an IVF index
#    from IVF_THRESHOLD up), BM25 mapped: every worker shares one copy through the page cache.
FORMAT_VERSION = 3


CURRENT = "current"  # a text file naming the live generation folder
_GEN_PREFIX = "gen-"


@dataclass(frozen=True)
class Index:
    """A loaded generation: its corpus, the chunks' vectors and BM25 (row i is chunk i).

    Nothing here holds the text itself: from a folder, the corpus, the vectors and BM25 are
    mapped files read through the page cache that every worker shares; a stateless replica's
    ask Milvus (index/stores/milvus/replica.py).
    """

    path: Path
    generation: str
    meta: dict
    corpus: Corpus
    store: VectorStore
    lexical: Lexical

    @property
    def articles(self) -> Mapping[str, Article]:
        """Return the articles by id (decoded on access; for builds, tools and tests)."""
        return ArticleView(self.corpus)

    @property
    def chunks(self) -> Sequence[Chunk]:
        """Return the chunks by row (decoded on access)."""
        return ChunkView(self.corpus)

    @property
    def rows_by_article(self) -> Mapping[str, np.ndarray]:
        """Return each article's chunk rows, in order."""
        return RowsView(self.corpus)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def current_generation(index_dir: Path) -> str | None:
    """Return the name of the live generation, or None if nothing was published."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def generation_number(name: str) -> int | None:
    """Return the number of a generation's name ("gen-000003" -> 3), or None if it has none."""
    found = re.search(r"(\d+)$", name or "")
    return int(found.group(1)) if found else None


def _next_generation(index_dir: Path) -> str:
    numbers = [
        int(p.name[len(_GEN_PREFIX) :])
        for p in index_dir.glob(f"{_GEN_PREFIX}*")
        if p.name[len(_GEN_PREFIX) :].isdigit()
    ]
    return f"{_GEN_PREFIX}{max(numbers, default=0) + 1:06d}"


def _read_meta(gen: Path) -> dict:
    try:
        return json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexFormatError(f"index {gen} has no readable meta.json: {err}") from None


def serves_milvus_lite(index_dir: Path, backend: StoreBackend) -> bool:
    """Return whether the live generation, or the next build, keeps vectors in a Lite file."""
    if getattr(backend, "is_lite", False):
        return True
    name = current_generation(Path(index_dir))
    if name is None:
        return False
    try:
        meta = _read_meta(Path(index_dir) / name)
    except IndexFormatError:
        return False
    return meta.get("store") == "milvus" and bool(meta.get("milvus", {}).get("lite"))


def _write_generation(
    folder: Path,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    model: str,
    backend: StoreBackend,
    previous: Path | None,
) -> list[str]:
    """Write every file of a generation into folder; return the store rows to drop later."""
    stored, stale = backend.write(
        folder, {a.id: a for a in articles}, chunks, vectors, model, previous
    )
    Lexical.build([c.text for c in chunks]).save(folder / LEXICAL_DIR)
    write_corpus(folder, articles, chunks)
    meta = {
        "format": FORMAT_VERSION,
        "model": model,
        "text": INDEXED_TEXT,
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "built": datetime.now().astimezone().isoformat(timespec="seconds"),
        "articles": len(articles),
        "chunks": len(chunks),
        "store": backend.kind,
    } | stored
    _write(folder / "meta.json", json.dumps(meta, indent=2))
    for sub in (folder / CORPUS_DIR, folder / LEXICAL_DIR, folder):
        _fsync_dir(sub)
    return stale


def _publish(index_dir: Path, tmp: Path, name: str) -> None:
    """Rename a finished generation into place and point `current` at it atomically."""
    os.rename(tmp, index_dir / name)
    _fsync_dir(index_dir)
    pointer = index_dir / f".{CURRENT}.tmp"
    _write(pointer, name + "\n")
    os.replace(pointer, index_dir / CURRENT)  # the one atomic step that publishes
    _fsync_dir(index_dir)


def save_index(
    index_dir: Path,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    model: str,
    backend: StoreBackend | None = None,
) -> str:
    """Write a complete new generation, then switch `current` to it atomically; return its name."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    backend = backend or FaissBackend()
    name = _next_generation(index_dir)
    # Build in a hidden temp folder: a crash here leaves only litter, never a half generation.
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    live = current_generation(index_dir)
    previous = index_dir / live if live else None
    stale = _write_generation(tmp, articles, chunks, vectors, model, backend, previous)
    _publish(index_dir, tmp, name)
    backend.published(index_dir / name, _read_meta(index_dir / name), stale)
    remove_stale(index_dir)
    return name


def remove_stale(index_dir: Path) -> None:
    """Delete every generation and temp folder except the live one (litter of crashed builds)."""
    live = current_generation(index_dir)
    for path in Path(index_dir).iterdir():
        stale_gen = path.name.startswith(_GEN_PREFIX) and path.name != live
        if path.is_dir() and (stale_gen or path.name.startswith(".tmp-")):
            shutil.rmtree(path, ignore_errors=True)


def _check_meta(gen: Path, meta: dict, model: str | None) -> None:
    """Refuse a generation this version cannot read, saying how to rebuild it."""
    from index.stores.milvus.mirror import ROW_KEYS

    if meta.get("format") != FORMAT_VERSION:
        raise IndexFormatError(
            f"index {gen} has format {meta.get('format')!r}, this version reads {FORMAT_VERSION}; "
            "rebuild it with: qa index --full"
        )
    if meta.get("store") == "milvus" and meta.get("milvus", {}).get("keys") != ROW_KEYS:
        raise IndexFormatError(
            f"index {gen} names its Milvus rows the old way; rebuild it with: qa index --full"
        )
    if model is not None and meta.get("model") != model:
        raise IndexFormatError(
            f"index {gen} was built with model {meta.get('model')!r}, not {model!r}; "
            "rebuild it with: qa index --full"
        )


def load_index(
    index_dir: Path, model: str | None = None, backend: StoreBackend | None = None
) -> Index:
    """Load the live generation; raise IndexNotFound or IndexFormatError with a clear reason.

    The vectors are opened with the store the generation was written to; `backend` only
    lends its credentials when it is that store.
    """
    index_dir = Path(index_dir)
    name = current_generation(index_dir)
    if name is None:
        raise IndexNotFound(f"no index at {index_dir} (build one with: qa index)")
    gen = index_dir / name
    meta = _read_meta(gen)
    _check_meta(gen, meta, model)
    started = time.perf_counter()
    try:
        corpus = DiskCorpus(gen)
        lexical = Lexical.load(gen / LEXICAL_DIR)
        store = backend_for(meta.get("store", ""), backend).open(gen, meta, corpus)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexFormatError(f"index {gen} is damaged: {err}") from None
    n = len(corpus)
    size = len(store) if hasattr(store, "__len__") else n
    if size != n:
        raise IndexFormatError(f"index {gen} has {size} vectors for {n} chunks")
    if len(lexical) != n:
        raise IndexFormatError(f"index {gen} has {len(lexical)} BM25 rows for {n} chunks")
    meta["load_seconds"] = round(time.perf_counter() - started, 3)
    return Index(index_dir, name, meta, corpus, store, lexical)


@dataclass(frozen=True)
class Generations(Protocol):
    """What a server follows: a folder's `current` or a stateless replica's Milvus record."""

    def current(self) -> str | None:
        """Return the live generation's name, or None if nothing was published."""
        ...

    def load(self, model: str | None = None) -> Index:
        """Load the live generation."""
        ...


@dataclass(frozen=True)
class FolderGenerations:
    """The generations of an index folder, followed through its `current` pointer."""

    index_dir: Path
    backend: StoreBackend | None = None  # lends a Milvus server's credentials to the loads

    def current(self) -> str | None:
        """Return the live generation's name, or None if nothing was published."""
        return current_generation(self.index_dir)

    def load(self, model: str | None = None) -> Index:
        """Load the live generation."""
        return load_index(self.index_dir, model, self.backend)


def load_legacy(index_dir: Path, model: str) -> Index | None:
    """Return the live generation if it is format 2 (before #14), converted for one build to
    reuse its vectors; None if it is not format 2. Raise IndexFormatError if unreadable."""
    from index.legacy import LEGACY_FORMAT, convert

    index_dir = Path(index_dir)
    name = current_generation(index_dir)
    if name is None:
        return None
    gen = index_dir / name
    meta = _read_meta(gen)
    if meta.get("format") != LEGACY_FORMAT or meta.get("model") != model:
        return None
    # Inside the index folder, so remove_stale deletes it with the build's other litter.
    scratch = index_dir / f".tmp-legacy-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    corpus, vectors = convert(gen, meta, scratch)
    return Index(index_dir, name, meta, corpus, vectors, None)  # a build reads no BM25
