"""Country and city names, for questions that ask "which country" or "which city".

The lists are text files in qa/data (written by train/gazetteers.py from pycountry and
GeoNames; sources and licences in qa/data/GAZETTEERS.md). They are read on first use and
kept: a frozenset of constants, the same for every caller, so caching it shares nothing
that could change.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"


@cache
def _names(kind: str) -> frozenset[str]:
    """Return the names in qa/data/<kind>.txt."""
    lines = (DATA / f"{kind}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def _strip(name: str) -> str:
    """Drop a leading "the" and a possessive: "the Netherlands'" -> "Netherlands"."""
    name = name.strip()
    if name.lower().startswith("the "):
        name = name[4:]
    for tail in ("'s", "’s", "'", "’"):
        if name.endswith(tail):
            return name[: -len(tail)]
    return name


def is_country(name: str) -> bool:
    """Return whether name is a country as news names it ("China", "the U.S.", "UK")."""
    name = _strip(name)
    return name in _names("countries") or f"the {name}" in _names("countries")


def is_city(name: str) -> bool:
    """Return whether name is a city of 100,000 people or more ("Hangzhou", "Santa Clara")."""
    return _strip(name) in _names("cities")
