"""Benchmark incremental rebuilds on an index of >= 10,000 chunks (real model).

Makes a seeds folder of N variants of the default corpus (each file gets one extra paragraph so
its content differs), then times in one run: the full build, a re-run with no change, adding one
article, changing one, removing one. Prints seconds and the ratios to the full build.

    .venv/bin/python bench/rebuild.py [--copies 10]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path

from index.build import build
from index.embedder.runtime import load_embedder

REPO = Path(__file__).resolve().parent.parent


def make_seeds(folder: Path, copies: int) -> None:
    """Write `copies` variants of every default seed into folder."""
    sources = sorted((REPO / "seeds").glob("*.txt"))
    for n in range(copies):
        for src in sources:
            text = src.read_text(encoding="utf-8")
            text = re.sub(r"(<br />\s*The original article)", f"<p>Copy {n}.</p>\\1", text, count=1)
            (folder / f"{src.stem}-{n:03d}.txt").write_text(text, encoding="utf-8")


def timed(label: str, seeds: Path, index: Path, embedder, rows: list, **kw) -> float:
    started = time.perf_counter()
    report = build(seeds, index, embedder, **kw)
    seconds = time.perf_counter() - started
    rows.append((label, seconds, report.chunks, report.embedded))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    embedder = load_embedder()  # the serving default (NEWSQA_EMBEDDER)
    with tempfile.TemporaryDirectory() as tmp:
        seeds, index = Path(tmp) / "seeds", Path(tmp) / "index"
        seeds.mkdir()
        make_seeds(seeds, args.copies)
        rows: list = []
        full = timed("full build", seeds, index, embedder, rows)
        timed("re-run, no change", seeds, index, embedder, rows)
        shutil.copy(REPO / "seeds" / "BeyondTheBitcoinBubble.txt", seeds / "new-article.txt")
        timed("add one article", seeds, index, embedder, rows)
        changed = seeds / "new-article.txt"
        changed.write_text(changed.read_text().replace("Bitcoin", "Bitcoin (BTC)", 1))
        timed("change one article", seeds, index, embedder, rows)
        changed.unlink()
        timed("remove one article", seeds, index, embedder, rows)
    print(f"{'step':<22}{'seconds':>10}{'chunks':>9}{'embedded':>10}{'vs full':>10}")
    for label, seconds, chunks, embedded in rows:
        print(f"{label:<22}{seconds:>10.2f}{chunks:>9}{embedded:>10}{seconds / full:>10.4f}")


if __name__ == "__main__":
    main()
