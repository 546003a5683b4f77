"""Columns on disk that every serving process maps instead of reading: strings and arrays.

A worker that reads a column through `mmap` shares its pages with every other worker through
the page cache, so a second worker costs almost nothing, and opening a column costs no time
however long it is.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def write_array(path: Path, array: np.ndarray) -> None:
    """Write one array as .npy and fsync it (a generation must be durable before publish)."""
    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def read_array(path: Path) -> np.ndarray:
    """Map an .npy file read-only (an empty one is read: mmap cannot map zero bytes).

    Returned as a plain ndarray view of the mapping: np.memmap's Python-level __getitem__
    cost more than the lookups themselves.
    """
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    return array.view(np.ndarray) if array.size else np.load(path, allow_pickle=False)


def write_strings(path: Path, texts: Iterable[str]) -> None:
    """Write strings as one UTF-8 blob (`path`) and their byte offsets (`path`.idx.npy)."""
    offsets = [0]
    with open(path, "wb") as fh:
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            fh.write(data)
            offsets.append(offsets[-1] + len(data))
        fh.flush()
        os.fsync(fh.fileno())
    write_array(_index_path(path), np.asarray(offsets, dtype=np.int64))


def _index_path(path: Path) -> Path:
    return path.with_name(path.name + ".idx.npy")


class Strings:
    """A read-only column of strings, mapped: item i is decoded on demand."""

    def __init__(self, path: Path) -> None:
        self.offsets = read_array(_index_path(path))
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self.blob: mmap.mmap | bytes = (
                mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.blob[start:end].decode("utf-8", "surrogatepass")

    def find(self, text: str) -> int | None:
        """Return the first item that contains text (never a match across two items)."""
        needle = text.encode("utf-8", "surrogatepass")
        at = self.blob.find(needle)
        while at != -1:
            i = int(np.searchsorted(self.offsets, at, side="right")) - 1
            if at + len(needle) <= self.offsets[i + 1]:
                return i
            at = self.blob.find(needle, int(self.offsets[i + 1]))
        return None
