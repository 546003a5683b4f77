"""One index generation on disk: save, load, format check, atomic publish via `current`."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from index.articles import Article
from index.chunking import Chunk
from index.errors import IndexFormatError, IndexNotFound
from index.lexical import LEXICAL_DIR, Lexical
from index.milvus import ROW_KEYS, MilvusSearch, delete_rows, sync_generation

FORMAT_VERSION = 1
STORES = ("faiss", "milvus")


def store_kind() -> str:
    """Return the vector store that builds write to: NEWSQA_STORE, faiss by default."""
    kind = os.environ.get("NEWSQA_STORE", "faiss").strip().lower() or "faiss"
    if kind not in STORES:
        raise IndexFormatError(f"NEWSQA_STORE must be one of {', '.join(STORES)}, not {kind!r}")
    return kind


CURRENT = "current"  # a text file naming the live generation folder
_GEN_PREFIX = "gen-"


@dataclass(frozen=True)
class Index:
    """A loaded generation: articles, chunks and their vectors (row i is chunks[i])."""

    path: Path
    generation: str
    meta: dict
    articles: dict[str, Article]
    chunks: tuple[Chunk, ...]
    vectors: faiss.Index
    lexical: Lexical | None = None  # BM25 over the same rows; None in pre-BM25 generations

    @cached_property
    def milvus(self) -> MilvusSearch | None:
        """The Milvus collection that serves this generation's dense search, if built so."""
        if self.meta.get("store", "faiss") != "milvus":
            return None
        return MilvusSearch.open(
            self.path / self.generation,
            self.meta["milvus"],
            self.articles,
            self.chunks,
            self.meta["model"],
        )

    def chunk_vectors(self) -> np.ndarray:
        """Return all chunk vectors as one float32 array (for reuse by a rebuild)."""
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)


def _article_to_json(article: Article) -> dict:
    row = asdict(article)
    row["date"] = article.date.isoformat() if article.date else None
    return row


def _article_from_json(row: dict) -> Article:
    date = datetime.fromisoformat(row["date"]) if row.get("date") else None
    return Article(**{**row, "date": date})


# Exact search scans every vector: one query on one core costs ~0.05-0.1 ms per 1,000 chunks
# (1 ms at 17k, 10 ms at 100k, 80-120 ms at 1M), HNSW 0.1-2 ms at any size here, with recall@10
# 0.99+ up to 100k real-embedding chunks (bench/vector_index.py). Past 20,000 chunks exact search
# would cost more than the whole rest of the retrieval, so HNSW takes over there.
HNSW_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
# efSearch grows with the index: recall@10 at 1M vectors is 0.84 with 128, 0.95 with 512 and
# 0.97 with 1024 (1.7 ms). Set on every load, not only saved in the file: tunable, no rebuild.
HNSW_EF_SEARCH = 128
HNSW_EF_SEARCH_MAX = 1024


def hnsw_search_breadth(n: int) -> int:
    """Return the efSearch for an HNSW index of n vectors: n / 1000, within [128, 1024]."""
    return max(HNSW_EF_SEARCH, min(HNSW_EF_SEARCH_MAX, n // 1000))


def make_vector_index(vectors: np.ndarray) -> faiss.Index:
    """Build the FAISS index for these unit vectors (inner product == cosine).

    Exact IndexFlatIP below HNSW_THRESHOLD rows, HNSW above. Both answer search() with
    SearchParameters(sel=...) filters and reconstruct_n() (rebuilds reuse stored vectors).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < HNSW_THRESHOLD:
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = hnsw_search_breadth(len(vectors))
    if len(vectors):
        index.add(vectors)
    return index


def vector_index_kind(index: faiss.Index) -> str:
    """Name the kind of a FAISS index: 'flat' or 'hnsw' (for meta.json and the benchmarks)."""
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


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


def serves_milvus_lite(index_dir: Path) -> bool:
    """Return whether the live generation, or the next build, keeps vectors in a Lite file."""
    from index.milvus import MilvusConfig

    if store_kind() == "milvus" and MilvusConfig.from_env().is_lite:
        return True
    name = current_generation(Path(index_dir))
    if name is None:
        return False
    try:
        meta = _read_meta(Path(index_dir) / name)
    except IndexFormatError:
        return False
    return meta.get("store") == "milvus" and bool(meta.get("milvus", {}).get("lite"))


def save_index(
    index_dir: Path,
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray,
    model: str,
) -> str:
    """Write a complete new generation, then switch `current` to it atomically; return its name."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    name = _next_generation(index_dir)
    # Build in a hidden temp folder: a crash here leaves only litter, never a half generation.
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    vector_index = make_vector_index(vectors)
    faiss.write_index(vector_index, str(tmp / "vectors.faiss"))
    Lexical.build([c.text for c in chunks]).save(tmp / LEXICAL_DIR)
    _write(
        tmp / "articles.jsonl", "".join(json.dumps(_article_to_json(a)) + "\n" for a in articles)
    )
    _write(
        tmp / "chunks.jsonl",
        "".join(json.dumps([c.id, c.article_id, c.start, c.end]) + "\n" for c in chunks),
    )
    meta = {
        "format": FORMAT_VERSION,
        "model": model,
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "built": datetime.now().astimezone().isoformat(timespec="seconds"),
        "articles": len(articles),
        "chunks": len(chunks),
        "vector_index": vector_index_kind(vector_index),
        "store": store_kind(),
    }
    if meta["store"] == "milvus":  # FAISS files stay the durable copy that rebuilds reuse
        live = current_generation(index_dir)
        meta["milvus"], stale_rows = sync_generation(
            tmp,
            {a.id: a for a in articles},
            chunks,
            vectors,
            model,
            previous=index_dir / live if live else None,
        )
    _write(tmp / "meta.json", json.dumps(meta, indent=2))
    with open(tmp / "vectors.faiss", "rb") as fh:
        os.fsync(fh.fileno())
    _fsync_dir(tmp)
    os.rename(tmp, index_dir / name)
    _fsync_dir(index_dir)
    pointer = index_dir / f".{CURRENT}.tmp"
    _write(pointer, name + "\n")
    os.replace(pointer, index_dir / CURRENT)  # the one atomic step that publishes
    _fsync_dir(index_dir)
    if meta["store"] == "milvus":  # rows only the previous generation needed (server only)
        delete_rows(index_dir / name, meta["milvus"], stale_rows)
    remove_stale(index_dir)
    return name


def remove_stale(index_dir: Path) -> None:
    """Delete every generation and temp folder except the live one (litter of crashed builds)."""
    live = current_generation(index_dir)
    for path in Path(index_dir).iterdir():
        stale_gen = path.name.startswith(_GEN_PREFIX) and path.name != live
        if path.is_dir() and (stale_gen or path.name.startswith(".tmp-")):
            shutil.rmtree(path, ignore_errors=True)


def load_index(index_dir: Path, model: str | None = None) -> Index:
    """Load the live generation; raise IndexNotFound or IndexFormatError with a clear reason."""
    index_dir = Path(index_dir)
    name = current_generation(index_dir)
    if name is None:
        raise IndexNotFound(f"no index at {index_dir} (build one with: qa index)")
    gen = index_dir / name
    meta = _read_meta(gen)
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
    started = time.perf_counter()
    try:
        with open(gen / "articles.jsonl", encoding="utf-8") as fh:
            articles = {a.id: a for a in map(_article_from_json, map(json.loads, fh))}
        chunks = []
        with open(gen / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                cid, aid, start, end = json.loads(line)
                chunks.append(Chunk(cid, aid, articles[aid].text[start:end], start, end))
        vectors = faiss.read_index(str(gen / "vectors.faiss"))
        if isinstance(vectors, faiss.IndexHNSW):
            vectors.hnsw.efSearch = hnsw_search_breadth(vectors.ntotal)
        lexical = Lexical.load(gen / LEXICAL_DIR) if (gen / LEXICAL_DIR).is_dir() else None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexFormatError(f"index {gen} is damaged: {err}") from None
    if vectors.ntotal != len(chunks):
        raise IndexFormatError(f"index {gen} has {vectors.ntotal} vectors for {len(chunks)} chunks")
    if lexical is not None and len(lexical) != len(chunks):
        raise IndexFormatError(f"index {gen} has {len(lexical)} BM25 rows for {len(chunks)} chunks")
    meta["load_seconds"] = round(time.perf_counter() - started, 3)
    return Index(index_dir, name, meta, articles, tuple(chunks), vectors, lexical)
