"""Run one build and freeze at a named point so a test can SIGKILL it there.

Usage: python crash_child.py SEEDS INDEX POINT. Prints "AT POINT" when it gets there.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import FakeEmbedder  # noqa: E402

from index import store  # noqa: E402
from index.build import build  # noqa: E402

POINT = sys.argv[3]


def pause(name: str) -> None:
    if name == POINT:
        print("AT", name, flush=True)
        time.sleep(120)  # the parent kills us long before this ends


class SlowFake(FakeEmbedder):
    def encode(self, texts):
        pause("embedding")
        return super().encode(texts)


def wrap(module, attr: str, before: str | None = None, when=lambda *a: True):
    original = getattr(module, attr)

    def wrapper(*args, **kwargs):
        if before and when(*args):
            pause(before)
        return original(*args, **kwargs)

    setattr(module, attr, wrapper)


wrap(store, "write_corpus", "writing")  # mid-generation: vectors and BM25 written
wrap(store, "_fsync_dir", "fsync")
wrap(os, "rename", "rename-generation")
wrap(os, "replace", "publish")
wrap(store, "remove_stale", "cleanup")
build(Path(sys.argv[1]), Path(sys.argv[2]), SlowFake())
print("DONE", flush=True)
