"""The named errors of the index package; the edges (CLI, HTTP) translate them."""


class IndexError_(Exception):
    """Base class of every error the index package raises on purpose."""


class ArticleError(IndexError_):
    """One article file cannot be read; it is reported and skipped, never fatal to a build."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SeedsError(IndexError_):
    """The seeds folder is missing or holds no article at all."""


class IndexNotFound(IndexError_):
    """No index has been built at the given folder yet."""


class IndexFormatError(IndexError_):
    """The index on disk was written by another format version or model, or is damaged."""


class BuildLocked(IndexError_):
    """Another build holds the index lock."""


class StoreUnavailable(IndexError_):
    """The vector store (a Milvus server, or a Lite file another process holds) cannot be used."""
