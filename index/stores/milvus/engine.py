"""The Milvus engine: connection settings, Milvus Lite processes (one per file) and files.

A generation's vectors live either in a Lite file inside the generation folder or on a
server; index/stores/milvus/mirror.py keeps them in step with the generation.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import warnings
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from index.errors import StoreUnavailable

log = logging.getLogger(__name__)


COLLECTION = "newsqa_chunks"
LITE_FILE = "milvus.db"  # a Lite file lives inside each generation folder (see `lite_uri`)
INSERT_BATCH = 2000  # Milvus Lite 2.5 slows down sharply on inserts above ~4,500 rows
MAX_TOPK = 16384  # Milvus's own cap on `limit`
NO_DATE_SECONDS = -(2**62)  # undated articles: below every bound, so a date filter excludes them
# Milvus Lite's gRPC server accepts a client ping at most every 5 minutes and answers pymilvus'
# default 10 s keepalive with GOAWAY "too_many_pings"; a unix socket needs no keepalive.
LITE_GRPC_OPTIONS = {"grpc.keepalive_time_ms": 2**31 - 1}
# A server over TCP keeps a keepalive (half-open connections), but no more often than gRPC's
# default server policy allows (5 minutes): Lite's engine on a port answered 10 s pings with
# GOAWAY "too_many_pings" when a connection lived long enough (seen in CI).
SERVER_GRPC_OPTIONS = {"grpc.keepalive_time_ms": 300_000}


def grpc_options(lite: bool) -> dict:
    """Return the MilvusClient keyword for the gRPC channel options of Lite or a server."""
    return {"grpc_options": LITE_GRPC_OPTIONS if lite else SERVER_GRPC_OPTIONS}


def is_lite_uri(uri: str) -> bool:
    """Return whether a Milvus URI names an embedded Lite file rather than a server."""
    return not uri.startswith(("http://", "https://", "tcp://", "grpc://"))


@dataclass(frozen=True)
class MilvusConfig:
    """Where Milvus is: a `.db` path means Milvus Lite, http(s):// a Milvus server."""

    uri: str = LITE_FILE
    token: str = ""
    collection: str = ""  # empty: see for_index

    @property
    def is_lite(self) -> bool:
        """Return whether this is an embedded Milvus Lite file rather than a server."""
        return is_lite_uri(self.uri)

    @classmethod
    def of(cls, uri: str = "", token: str = "", collection: str = "") -> MilvusConfig:
        """Return a config; an empty uri means a Lite file per generation."""
        return cls(uri or LITE_FILE, token, collection)

    def for_index(self, index_dir: Path) -> MilvusConfig:
        """Name the collection of an index folder when none was set.

        On a server the collection defaults to one named after the index folder: a build
        deletes the rows its index does not need, so two indexes must never share one.
        """
        if self.collection:
            return self
        if self.is_lite:
            return replace(self, collection=COLLECTION)
        digest = hashlib.sha1(str(Path(index_dir).resolve()).encode()).hexdigest()
        return replace(self, collection=f"{COLLECTION}_{digest[:16]}")

    def reading(self, generation_dir: Path, record: dict) -> MilvusConfig:
        """Point at where a build put a generation (its meta.json record), not at where this
        config points: only a server's credentials come from here."""
        collection = record.get("collection", COLLECTION)
        if record["lite"]:
            return MilvusConfig(str(Path(generation_dir) / record["uri"]), "", collection)
        uri = self.uri if public_uri(self.uri) == record["uri"] else record["uri"]
        return MilvusConfig(uri, self.token, collection)


def public_uri(uri: str) -> str:
    """Drop user:password from a server URI, so meta.json never holds a secret."""
    parts = urlsplit(uri)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class LiteProcesses:
    """Count the users of each Milvus Lite file in this process; stop its server after the last.

    milvus_lite starts one server process per file and keeps it until the interpreter exits,
    so a long-running service that reloads generations would collect one process per rebuild.
    The table is process-wide because milvus_lite's own server table is.
    """

    def __init__(self) -> None:
        # Reentrant: a garbage-collected MilvusVectors may release inside an open() here.
        self._lock = threading.RLock()
        self._users: Counter[str] = Counter()

    def open(self, path: str) -> None:
        """Start (or share) the server for this file; count one more user."""
        with warnings.catch_warnings():
            # milvus-lite 2.5 imports pkg_resources (hence setuptools<81): a warning every run
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
            from milvus_lite.server_manager import server_manager_instance

        path = str(Path(path).resolve())
        with self._lock:  # held while starting, so a concurrent last close cannot stop it
            if server_manager_instance.start_and_get_uri(path) is None:
                raise StoreUnavailable(
                    f"cannot open the Milvus Lite file {path}: Lite lets one process open a file "
                    "(is `qa serve` running on this index?); stop it, ask through its API, "
                    "or use a Milvus server"
                )
            self._users[path] += 1

    def close(self, path: str) -> None:
        """Count one user less; stop the file's server when none is left."""
        from milvus_lite.server_manager import server_manager_instance

        path = str(Path(path).resolve())
        with self._lock:
            self._users[path] -= 1
            if self._users[path] <= 0:
                del self._users[path]
                server_manager_instance.release_server(path)

    def running(self) -> list[str]:
        """Return the files whose servers this process keeps running."""
        with self._lock:
            return sorted(self._users)


LITE = LiteProcesses()


def close_client(client, lite_path: str | None) -> None:
    client.close()
    if lite_path is not None:
        LITE.close(lite_path)


def lite_uri(generation_dir: Path, config: MilvusConfig) -> str:
    """Put a Lite file inside the generation folder: Lite allows one process per file, and a
    file per generation lets a build write the next one while a server reads the current."""
    return str(Path(generation_dir) / Path(config.uri).name)


def copy_lite_file(source: Path, target: Path) -> bool:
    """Copy a Lite file (SQLite) consistently, even while a Lite server reads it."""
    if not source.is_file():
        return False
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error:
        target.unlink(missing_ok=True)
        return False
    return True
