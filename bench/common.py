"""Shared pieces of the benchmarks: tables, percentiles, real and synthetic indexes, a server.

Synthetic indexes: above the real corpus size, the default corpus's chunks are replicated and
each replica gets the real vector of its chunk plus Gaussian noise (cosine ~0.8 to the real one),
renormalised. So vectors keep the clustered shape of real embeddings (random unit vectors would
be an unrealistically easy or hard case for IVF), and answers still quote real text.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
VAR = REPO / "var" / "bench"  # cached real and synthetic indexes (reused by later runs)
NOISE = 0.04  # per dimension: |noise| ~ 0.78, so a replica keeps cosine ~0.79 to its source

# Questions about the default corpus (and a few it cannot answer), as a user would type them.
QUESTIONS = [
    "how much did Alibaba invest?",
    "Which company did Cruise acquire?",
    "How much will Bird spend on its European expansion?",
    "What is Stripe valued at?",
    "What is the bitcoin bubble about?",
    "Who founded Aliyun?",
    "When did Google launch its new phone?",
    "Why did Facebook change its privacy settings?",
    "How many users does Twitter have?",
    "What did Apple announce at WWDC?",
    "which startup raised a series A round",
    "What is the capital of Australia?",
    "who is the CEO of Microsoft",
    "how do electric scooters make money",
    "What happened to Uber's self-driving program?",
    "what does the article say about venture capital in Europe",
]


def say(text: str = "") -> None:
    """Print now (the runner pipes our output)."""
    print(text, flush=True)


def machine_note() -> str:
    """Describe the machine and how loaded it is, for the header of every table."""
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, "
        f"Python {platform.python_version()}"
    )


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a small fixed-width table."""
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    say(f"\n## {title}")
    for row in cells:
        padded = [v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))]  # noqa: B905
        say("  ".join(padded))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentiles(ms: Sequence[float]) -> tuple[float, float, float]:
    """Return p50, p95 and p99 of latencies."""
    p50, p95, p99 = np.percentile(np.asarray(ms), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def rss_mb(pid: int) -> float:
    """Return a process's resident set size in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- indexes


def real_index() -> Path:
    """Return an index of the default corpus (built once with the default embedder, then reused)."""
    from index.build import build
    from index.embedder.runtime import load_embedder

    folder = VAR / "real-index"
    build(SEEDS, folder, load_embedder())
    return folder


ARTICLE_FOLDERS = [
    SEEDS,
    REPO.parent / "shared" / "corpora" / "techcrunch",
    REPO.parent / "shared" / "eval" / "squad-dev" / "articles",
]


def real_texts() -> list[str]:
    """Return distinct real texts: every chunk, sentence and sentence pair of the corpora here."""
    from index.articles import ArticleError, read_article
    from index.chunking import chunk_text, split_sentences

    seen: dict[str, None] = {}
    for folder in ARTICLE_FOLDERS:
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            try:
                text = read_article(path, path.stem).text
            except ArticleError:
                continue
            spans = split_sentences(text)
            sentences = [text[a:b] for a, b in spans]
            pairs = [text[a : spans[i + 1][1]] for i, (a, _) in enumerate(spans[:-1])]
            for t in [c.text for c in chunk_text(path.stem, text)] + sentences + pairs:
                if len(t.split()) >= 4:
                    seen.setdefault(t.strip(), None)
    return list(seen)


def real_vectors() -> np.ndarray:
    """Return the fp32 embeddings of real_texts() (computed once, then cached in var/bench)."""
    from index.embedder.runtime import load_embedder

    texts = real_texts()
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:10]
    path = VAR / f"real-vectors-{len(texts)}-{key}.npy"
    if path.exists():
        return np.load(path)
    embedder = load_embedder(backend="onnx")  # the reference model's numbers (tests/test_embedding)
    vectors = np.concatenate(
        [embedder.encode(texts[i : i + 1024]) for i in range(0, len(texts), 1024)]
    )
    VAR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _source_key() -> str:
    """Name what decides a generation's contents: another format or IVF setting rebuilds."""
    import index.store as store
    import index.stores.faiss_store as vs

    lexical = (REPO / "index" / "lexical.py").exists()
    parts = (store.FORMAT_VERSION, vs.IVF_THRESHOLD, "ivf", vs.IVF_TRAIN_PER_LIST)
    return "-".join(map(str, parts)) + ("-bm25" if lexical else "")


@contextlib.contextmanager
def _memoised_terms() -> Iterator[None]:
    """Stem each distinct text once while building: replicas repeat the same few texts."""
    import index.stores.bm25 as lexical

    original = lexical.terms
    lexical.terms = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        lexical.terms = original


def synthetic_index(size: int) -> tuple[Path, float]:
    """Return (folder, build seconds) of an index of `size` chunks, built once then cached.

    Up to the real corpus size it holds a prefix of the real chunks; above, replicas with
    perturbed vectors (see the module docstring). Built through the real save_index, so it
    has the vector index kind and BM25 the store would make for that size.
    """
    from index.chunking import Chunk
    from index.errors import IndexError_
    from index.store import load_index, save_index

    real = load_index(real_index())
    folder = VAR / f"synthetic-{size}-{_source_key()}"
    try:
        if load_index(folder).meta["chunks"] == size:
            return folder, json.loads((folder / "bench.json").read_text())["build_seconds"]
    except (IndexError_, KeyError, OSError, ValueError):
        pass
    started = time.perf_counter()
    base = real.store.vectors()
    n = len(real.chunks)
    rows = np.arange(size) % n
    chunks: list[Chunk] = list(real.chunks[: min(size, n)])
    for i in range(n, size):
        c = real.chunks[rows[i]]
        chunks.append(replace(c, id=f"{c.id}~{i // n}"))
    rng = np.random.default_rng(size)
    vectors = np.empty((size, base.shape[1]), dtype=np.float32)
    vectors[: min(size, n)] = base[: min(size, n)]
    for lo in range(n, size, 100_000):
        hi = min(size, lo + 100_000)
        block = base[rows[lo:hi]] + NOISE * rng.standard_normal((hi - lo, base.shape[1]))
        vectors[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    used = {c.article_id for c in chunks}
    articles = [a for a in real.articles.values() if a.id in used]
    with _memoised_terms():
        save_index(folder, articles, chunks, vectors, real.meta["model"])
    seconds = time.perf_counter() - started
    (folder / "bench.json").write_text(json.dumps({"build_seconds": round(seconds, 1)}))
    return folder, seconds


# ----------------------------------------------------------------------------- serving


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, path: str, body: dict, timeout: float = 120) -> tuple[int, bytes]:
    """POST JSON to 127.0.0.1:port and return (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    """GET from 127.0.0.1:port and return (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def entry(repo: Path) -> list[str]:
    """Return the command that runs a checkout's `qa` (before #22 it lived in qa/cli.py).

    Not the venv's `qa` script: that imports this checkout's cli package whatever the path.
    """
    module = "cli.main" if (repo / "cli" / "main.py").exists() else "qa.cli"
    return [
        sys.executable,
        "-c",
        f"import sys; sys.argv[0] = 'qa'; from {module} import main; main()",
    ]


class Server:
    """`qa serve` (gunicorn) on 127.0.0.1 and a free port, with extra flags; stopped on exit."""

    def __init__(
        self,
        index_dir: Path,
        workers: int = 2,
        flags: Sequence[str] = (),
        repo: Path = REPO,
        env: dict[str, str] | None = None,
    ) -> None:
        self.index_dir, self.workers, self.flags = index_dir, workers, list(flags)
        self.repo, self.env = Path(repo), dict(env or {})  # another checkout's code, e.g.
        self.command = entry(self.repo)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.ready_seconds = float("nan")

    def __enter__(self) -> Server:
        cmd = [
            *self.command,
            "serve",
            "--index",
            str(self.index_dir),
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            *self.flags,
        ]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.repo,
            env={**os.environ, "PYTHONPATH": str(self.repo), **self.env},
            stdout=subprocess.DEVNULL,  # the access log
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: we stop exactly what we started
        )
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}")
            with contextlib.suppress(OSError):
                if get(self.port, "/healthz")[0] == 200:
                    self.ready_seconds = time.perf_counter() - started
                    return self
            time.sleep(0.2)
        raise RuntimeError("qa serve did not become ready")

    def worker_pids(self) -> list[int]:
        """Return the gunicorn worker processes (children of the master)."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
