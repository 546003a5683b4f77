"""Saved pages: what trafilatura keeps of each fixture page, against BeautifulSoup alone.

For every page in tests/data/formats/pages/, both extractors are asked for the text: the
page reader (index/readers/page.py, trafilatura) and the seed cleaner run on the whole page
(index/cleaning.clean_html, BeautifulSoup). Each is scored on the strings tests/test_formats.py
names: the article's paragraphs it keeps, and the menu, banner, comment, related-box and footer
strings that leak into it. Also the time per page (median of 20, after one warm-up run).

    PYTHONPATH=. .venv/bin/python -m bench.pages
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from index.sources.cleaning import clean_html
from index.sources.formats import read_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from test_formats import FORMATS, PAGES  # noqa: E402


def _timed(work, runs: int = 20) -> float:
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    print("| page | extractor | paragraphs kept | furniture leaked | ms/page |")
    print("|---|---|---|---|---|")
    for name, (kept, dropped) in PAGES.items():
        path = FORMATS / "pages" / name
        raw = path.read_bytes()
        extractors = {
            "trafilatura": lambda raw=raw, path=path: (
                read_file(raw, str(path), "p").articles[0].text
            ),
            "BeautifulSoup only": lambda raw=raw: clean_html(raw.decode())[0],
        }
        for label, extract in extractors.items():
            text = extract()
            leaked = [s for s in dropped if s in text]
            held = sum(s in text for s in kept)
            print(
                f"| {name} | {label} | {held}/{len(kept)} | {len(leaked)}/{len(dropped)}"
                f"{': ' + ', '.join(repr(s) for s in leaked) if leaked else ''} "
                f"| {_timed(extract):.1f} |"
            )


if __name__ == "__main__":
    main()
