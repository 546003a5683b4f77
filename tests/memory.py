"""Test helper: whether an array is a file mapping (what workers share via the page cache)."""

from __future__ import annotations

import mmap

import numpy as np


def is_mapped(array: np.ndarray) -> bool:
    """Return whether an array's memory is a file mapping (shared through the page cache)."""
    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return False
