"""Where chunk vectors live: FAISS files beside the generation, or Milvus (Lite or a server).

`store_backend` is the one place that turns Settings into a backend (builds write with it);
`backend_for` opens whatever a generation recorded in its meta.json; `replica_generations`
says whether a server follows a Milvus record instead of a folder.
"""

from __future__ import annotations

from pathlib import Path

from index.errors import IndexFormatError
from index.settings import Settings
from index.stores.base import StoreBackend
from index.stores.faiss_store import FaissBackend


def store_backend(settings: Settings) -> StoreBackend:
    """Return the backend that builds write to, as the settings name it."""
    if settings.store == "milvus":
        from index.stores.milvus.backend import MilvusBackend

        return MilvusBackend.from_settings(settings)
    return FaissBackend()


def backend_for(kind: str, given: StoreBackend | None) -> StoreBackend:
    """Return the backend to open a generation written by `kind` (given one if it matches)."""
    if given is not None and given.kind == kind:
        return given  # it carries the credentials (a Milvus server's token)
    if kind == "milvus":
        from index.stores.milvus.backend import MilvusBackend

        return MilvusBackend()
    if kind == "faiss":
        return FaissBackend()
    raise IndexFormatError(f"unknown vector store {kind!r} in meta.json")


def replica_generations(settings: Settings, index_dir: Path):  # noqa: ANN201
    """Return the Milvus record a stateless replica follows (None: follow the folder)."""
    if not settings.stateless_replicas:
        return None
    from index.stores.milvus.backend import replica_config
    from index.stores.milvus.replica import MilvusGenerations

    return MilvusGenerations(replica_config(settings.with_(index_dir=index_dir)), index_dir)
