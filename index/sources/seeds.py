"""The seeds folder: which files in it are articles to read, under which ids.

Only regular files that resolve inside the folder are read: a symbolic link (or a link to a
folder) leading elsewhere would serve a file from outside it through /api/articles, so it is
skipped with its reason. Ids are the paths under the folder, made safe for a URL.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.articles import MAX_FILE_BYTES
from index.errors import SeedsError

# Characters an id may not hold: the API's path converter matches no line break, and
# control or format characters in an id would be unreadable or unsafe in a URL or a log.
_SAFE = "_"


@dataclass(frozen=True)
class Skipped:
    """A seed file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class SeedScan:
    """The files of a seeds folder to read, and the entries skipped on the way."""

    files: tuple[Path, ...]
    skipped: tuple[Skipped, ...]


def _root(seeds_dir: Path) -> Path:
    """Return the folder resolved; raise SeedsError saying why it cannot be used."""
    try:
        root = seeds_dir.resolve(strict=True)
    except FileNotFoundError:
        if seeds_dir.is_symlink():
            raise SeedsError(f"seeds folder {seeds_dir} is a link to nothing") from None
        raise SeedsError(f"seeds folder {seeds_dir} does not exist") from None
    except (RuntimeError, OSError) as err:  # 3.11 raises RuntimeError on a link loop
        raise SeedsError(f"seeds folder {seeds_dir} cannot be resolved: {err}") from None
    if not root.is_dir():
        raise SeedsError(f"seeds folder {seeds_dir} is not a folder")
    return root


def _inside(path: Path, root: Path) -> str | None:
    """Return why path is not a regular file inside root, or None if it is one."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "a link to nothing"
    except (RuntimeError, OSError) as err:
        return f"cannot be resolved: {err}"
    if not target.is_relative_to(root):
        return f"resolves outside the seeds folder (to {target})"
    if not target.is_file():
        return "not a regular file"
    return None


def scan_seeds(seeds_dir: Path) -> SeedScan:
    """List the article files under seeds_dir (hidden ones ignored), sorted, and the skips."""
    seeds_dir = Path(seeds_dir)
    root = _root(seeds_dir)
    files: list[Path] = []
    skipped: list[Skipped] = []
    for folder, dirs, names in os.walk(seeds_dir):  # links to folders are listed, not entered
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in dirs:
            if (here / name).is_symlink():
                skipped.append(Skipped(str(here / name), "a link to a folder: not followed"))
        for name in sorted(n for n in names if not n.startswith(".")):
            why = _inside(here / name, root)
            if why is None:
                files.append(here / name)
            else:
                skipped.append(Skipped(str(here / name), why))
    if not files:
        raise SeedsError(f"seeds folder {seeds_dir} holds no files")
    return SeedScan(tuple(sorted(files)), tuple(skipped))


@dataclass(frozen=True)
class Seed:
    """One scanned file as a build meets it: its id and bytes, or why it cannot be read."""

    path: Path
    id: str
    raw: bytes | None  # None: skipped, `reason` says why
    reason: str = ""


def read_seeds(seeds_dir: Path, scan: SeedScan) -> Iterator[Seed]:
    """Yield each scanned file once, in order, with an id no earlier file has (a~2, a~3...)."""
    taken: set[str] = set()
    for path in scan.files:
        aid = _unique(article_id(seeds_dir, path), taken)
        taken.add(aid)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:  # don't even read it: no article is that large
                yield Seed(path, aid, None, f"file is too large ({size:,} bytes)")
            else:
                yield Seed(path, aid, read_seed(path))
        except OSError as err:
            yield Seed(path, aid, None, f"cannot read: {err.strerror}")


def _unique(aid: str, taken: set[str]) -> str:
    """Return aid, or aid~2, aid~3... if another file has it (a.txt and a.html, a safe id)."""
    name, n = aid, 1
    while name in taken:
        n += 1
        name = f"{aid}~{n}"
    return name


def read_seed(path: Path) -> bytes:
    """Read a seed file's bytes through its resolved path, refusing a link swapped in since."""
    fd = os.open(path.resolve(), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        return fh.read()


def article_id(seeds_dir: Path, path: Path) -> str:
    """Name an article by its path under the seeds folder, without the extension."""
    name = path.relative_to(seeds_dir).with_suffix("").as_posix()
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # bytes names
    return "".join(ch if ch.isprintable() else _SAFE for ch in name)
