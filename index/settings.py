"""Every NEWSQA_* environment variable, read in this one place into a typed value.

Nothing else in index/, qa/ or web/ reads the environment: the edges (CLI, app factory) call
`Settings.from_env()` once and pass on what each part needs. docs/configuration.md lists them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

BACKENDS = ("onnx", "torch", "onnx-int8")
METRICS_PREFIX = "newsqa-metrics-"  # the temp folder `qa serve` makes for its workers' metrics
STORES = ("faiss", "milvus")


class SettingsError(ValueError):
    """An environment variable holds a value newsqa cannot use."""


def _var(name: str, default: object, doc: str, choices: tuple[str, ...] = ()) -> object:
    """Declare a field read from the variable `name` (doc feeds docs/configuration.md)."""
    return field(default=default, metadata={"env": name, "doc": doc, "choices": choices})


def _parse(kind: str, name: str, raw: str, choices: tuple[str, ...]) -> object:
    """Turn one variable's text into the field's type; raise SettingsError if it can't be."""
    raw = raw.strip()
    if kind == "bool":
        return raw != "0"
    if kind == "int":
        if not raw.isdigit():
            raise SettingsError(f"{name} must be a whole number, not {raw!r}")
        return int(raw)
    if choices and raw.lower() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    if kind.startswith("Path"):
        return Path(raw)
    return raw.lower() if choices else raw


@dataclass(frozen=True)
class Settings:
    """The service's configuration: one field per variable, with its default."""

    index_dir: Path = _var("NEWSQA_INDEX", Path("var/index"), "index folder served and built")
    seeds_dir: Path = _var("NEWSQA_SEEDS", Path("seeds"), "article files a rebuild reads")
    admin_token: str | None = _var("NEWSQA_ADMIN_TOKEN", None, "enables POST /api/rebuild")
    rerank: bool = _var("NEWSQA_RERANK", True, "0: answer without the cross-encoder")
    read: bool = _var("NEWSQA_READ", True, "0: no span reader (rules mark the answer)")
    max_queue: int = _var("NEWSQA_MAX_QUEUE", 4, "questions in flight or waiting per worker")
    embedder: str = _var("NEWSQA_EMBEDDER", "onnx", "embedder runtime", BACKENDS)
    threads: int = _var("NEWSQA_THREADS", 0, "intra-op threads per model (0: every core)")
    onnx_dir: Path | None = _var("NEWSQA_ONNX_DIR", None, "exported embedder graphs")
    reranker_dir: Path | None = _var("NEWSQA_RERANKER_DIR", None, "cross-encoder folder")
    store: str = _var("NEWSQA_STORE", "faiss", "where builds put the vectors", STORES)
    milvus_uri: str = _var("NEWSQA_MILVUS_URI", "", "Milvus server URL (empty: Lite files)")
    milvus_token: str = _var("NEWSQA_MILVUS_TOKEN", "", "Milvus token or user:password")
    milvus_collection: str = _var("NEWSQA_MILVUS_COLLECTION", "", "empty: one per index folder")
    milvus_stateless: bool = _var(
        "NEWSQA_MILVUS_STATELESS", False, "1: replicas read all from Milvus, no index folder"
    )
    feed_interval: int = _var("NEWSQA_FEED_INTERVAL", 900, "seconds between polls of a feed")
    saved_open: bool = _var("NEWSQA_SAVED_OPEN", False, "1: anyone may save questions")
    metrics_dir: Path | None = _var(
        "PROMETHEUS_MULTIPROC_DIR", None, "the workers' metrics files (qa serve: a fresh temp dir)"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment (or a mapping standing in for it)."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            name = f.metadata["env"]
            if env.get(name, "").strip():
                values[f.name] = _parse(str(f.type), name, env[name], f.metadata["choices"])
        return cls(**values)

    @property
    def stateless_replicas(self) -> bool:
        """Return whether servers read everything from Milvus (no index folder of their own)."""
        return self.store == "milvus" and self.milvus_stateless

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (a CLI option overrides its variable)."""
        return replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """Return the variables that recreate these settings in a child process (gunicorn)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                out[f.metadata["env"]] = "1" if value else "0"
            elif value is not None and value != f.default:
                out[f.metadata["env"]] = str(value)
        return out


def table() -> list[tuple[str, str, str]]:
    """Return (variable, default, meaning) for every setting, for the docs."""
    return [
        (f.metadata["env"], "" if f.default is None else str(f.default), f.metadata["doc"])
        for f in fields(Settings)
    ]


def offline() -> None:
    """Forbid the Hugging Face libraries any network look-up (the weights are all local)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def worker_environment(settings: Settings) -> dict[str, str]:
    """Return the environment for server worker processes: ours plus the settings.

    Each worker runs `settings.threads` threads per model (OpenMP and tokenizers too), so that
    workers x threads stay within the cores instead of oversubscribing them. The workers write
    their metrics into one folder that GET /metrics sums (web/metrics.py): a fresh temp folder
    unless PROMETHEUS_MULTIPROC_DIR names one (which should then be emptied before each start).
    """
    if settings.metrics_dir is None:
        settings = settings.with_(metrics_dir=Path(tempfile.mkdtemp(prefix=METRICS_PREFIX)))
    settings.metrics_dir.mkdir(parents=True, exist_ok=True)
    env = child_environment(**settings.to_env())
    env.setdefault("OMP_NUM_THREADS", str(settings.threads or os.cpu_count() or 1))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def child_environment(**extra: str) -> dict[str, str]:
    """Return this process's environment plus `extra`, for a child process to start with."""
    return {**os.environ, **extra}
